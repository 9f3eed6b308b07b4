import { describe, expect, it } from 'vitest';
import { scoreBM25 } from './bm25.js';
import { createHashEmbedder } from './hash-embedder.js';
import { KeyedMutex } from './keyed-mutex.js';
import { cosineSimilarity } from './similarity.js';
import { keywordText, keywordTokens, textHash, tokenize } from './text.js';

describe('keyword tokens and hashes', () => {
  it('lowercases, drops function words and strips common suffixes', () => {
    expect(keywordTokens('The peanuts, ALLERGIES and hiking!')).toEqual([
      'peanut',
      'allergy',
      'hik',
    ]);
    expect(keywordTokens('Café über straße 東京')).toEqual(['café', 'über', 'straße', '東京']);
  });

  it('hashes trivially different texts the same', () => {
    expect(textHash('  Likes   Tea ')).toBe(textHash('likes tea'));
    expect(textHash('likes tea')).not.toBe(textHash('likes coffee'));
  });
});

describe('createHashEmbedder', () => {
  it('is deterministic, normalized and puts similar wordings closer', async () => {
    const embedder = createHashEmbedder();
    const { embeddings } = await embedder.embed({
      values: ['is allergic to peanuts', 'peanut allergy', 'loves hiking in the alps', ''],
      purpose: 'document',
    });
    const [allergic, allergy, hiking, empty] = embeddings as [
      number[],
      number[],
      number[],
      number[],
    ];
    expect(allergic).toHaveLength(384);
    expect(Math.hypot(...allergic)).toBeCloseTo(1, 6);
    expect(cosineSimilarity(allergic, allergy)).toBeGreaterThan(cosineSimilarity(allergic, hiking));
    expect(empty.every((value) => value === 0)).toBe(true);
    const again = await embedder.embed({ values: ['is allergic to peanuts'], purpose: 'query' });
    expect(again.embeddings[0]).toEqual(allergic);
  });

  it('validates its options', () => {
    expect(() => createHashEmbedder({ dimensions: 3 })).toThrow('dimensions');
  });
});

describe('scoreBM25', () => {
  it('scores documents holding rare query terms highest and others 0', () => {
    const scores = scoreBM25('peanut allergy', [
      'allergic to peanuts, a serious peanut allergy',
      'likes peanut butter',
      'works as a nurse',
    ]);
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBeGreaterThan(0);
    expect(scores[2]).toBe(0);
  });
});

describe('KeyedMutex', () => {
  it('runs one task at a time per key, in order, and survives failures', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    const slow =
      (label: string, ms: number, fail = false) =>
      async () => {
        order.push(`start ${label}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`end ${label}`);
        if (fail) throw new Error(label);
        return label;
      };
    const results = await Promise.allSettled([
      mutex.run('a', slow('a1', 20, true)),
      mutex.run('a', slow('a2', 1)),
      mutex.run('b', slow('b1', 5)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(order.indexOf('end a1')).toBeLessThan(order.indexOf('start a2'));
    expect(order.indexOf('start b1')).toBeLessThan(order.indexOf('end a1'));
  });
});

describe('tokenize and keywordText in every language', () => {
  it('splits Chinese and Japanese into words and keeps emoji as tokens', () => {
    expect(tokenize('我最喜欢吃四川火锅')).toContain('火锅');
    expect(tokenize('私は東京に住んでいます')).toContain('東京');
    expect(tokenize('Ramen 🍜!')).toEqual(['ramen', 'emoji1f35c']);
    expect(tokenize('हिंदी भाषा')).toEqual(['हिंदी', 'भाषा']);
  });

  it('leaves text without unspaced scripts or emoji as it is', () => {
    const text = "Caroline: I went to the LGBTQ support group, didn't I?";
    expect(keywordText(text)).toBe(text);
  });

  it('spaces out the words of unspaced scripts and spells emoji', () => {
    const indexed = keywordText('私は東京に住んでいます。Dinner: 🍜');
    expect(indexed.split(/\s+/)).toEqual(expect.arrayContaining(['東京', 'emoji1f35c']));
    expect(tokenize(indexed)).toEqual(tokenize('私は東京に住んでいます。Dinner: 🍜'));
  });

  it('follows a Korean word with a particle by its noun, in tokens and in the keyword text', () => {
    expect(tokenize('서울에서 친구를 만났어요')).toEqual([
      '서울에서',
      '서울',
      '친구를',
      '친구',
      '만났어요',
    ]);
    expect(keywordText('저는 서울에 살아요')).toBe('저는 저 서울에 서울 살아요');
    for (const [word, noun] of [
      ['학교에서', '학교'],
      ['학교로', '학교'],
      ['집으로', '집'],
      ['사과를', '사과'],
      ['책이', '책'],
      ['동생의', '동생'],
      ['친구와', '친구'],
      ['부산까지', '부산'],
    ] as const) {
      expect(tokenize(word)).toEqual([word, noun]);
    }
    // A particle alone, and words of other scripts, are left as they are.
    expect(tokenize('가')).toEqual(['가']);
    expect(keywordText('Seoul is big')).toBe('Seoul is big');
  });
});
