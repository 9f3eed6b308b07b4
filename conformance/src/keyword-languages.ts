import { keywordText, type VectorRecord, type VectorStore } from '@engram/core';
import { expect } from 'vitest';
import { makeRecord } from './support.js';

/** A Chinese, a Korean (noun with a particle) and an English memory, and a word that finds each. */
const memories = [
  { text: '我最喜欢吃四川火锅', word: '火锅' },
  { text: '저는 서울에서 일해요', word: '서울' },
  { text: 'Loves hiking in the Alps', word: 'hiking' },
] as const;

/**
 * Writes the memories in the form the engine hands them over (with `keywordText`) into an
 * existing collection and checks that a keyword query of one word finds each first: what a store
 * must still do after migrating an index made before it indexed `keywordText`.
 */
export async function expectKeywordLanguages(
  store: VectorStore,
  collection: string,
  dimensions: number,
): Promise<void> {
  await store.upsert({
    collection,
    records: memories.map(({ text }) =>
      makeRecord(dimensions, { userId: 'reader', text, keywordText: keywordText(text) }),
    ),
  });
  for (const { text, word } of memories) {
    const matches = await store.query({
      collection,
      text: keywordText(word),
      topK: 3,
      scope: { userId: 'reader' },
    });
    expect(matches[0]?.record.text, word).toBe(text);
  }
}

/** Memories written before a store indexed `keywordText`, and a word that finds each. */
const writtenBefore = [
  { text: '周末我们去北京旅行', word: '北京' },
  { text: '저는 부산에서 살아요', word: '부산' },
  { text: 'Enjoys long walks by the river', word: 'walks' },
] as const;

/**
 * A Chinese, a Korean and an English record as a store wrote them before it indexed
 * `keywordText` (none set): for a test to write into an index of that time.
 */
export function recordsWithoutKeywordText(dimensions: number): VectorRecord[] {
  return writtenBefore.map(({ text }) => makeRecord(dimensions, { userId: 'reader', text }));
}

/**
 * Checks that a keyword query of one word finds each of the records of
 * {@link recordsWithoutKeywordText}, alone: what a store must do once it has migrated an index
 * those records were written into, without their being written again.
 */
export async function expectFoundWithoutKeywordText(
  store: VectorStore,
  collection: string,
  records: readonly VectorRecord[],
): Promise<void> {
  for (const [position, { word }] of writtenBefore.entries()) {
    const matches = await store.query({ collection, text: keywordText(word), topK: 3 });
    expect(
      matches.map((match) => match.record.id),
      word,
    ).toEqual([records[position]?.id]);
  }
}
