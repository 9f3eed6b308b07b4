import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashEmbedder, fuseScores, Memory, scoreBM25 } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';
import { evidenceRecall, type LocomoConversation } from './locomo.js';

/** One ranked list of a question: dia ids, best first, with their scores. */
interface Ranked {
  ids: string[];
  scores: number[];
}

/** What a fusion variant sees for one question. */
export interface QuestionLists {
  /** Vector candidates (cosine), best first. */
  vector: Ranked;
  /** The store's keyword candidates (FTS5 BM25), best first. */
  fts: Ranked;
  /** Core's BM25 over every memory of the scope, best first. */
  bm25: Ranked;
}

/** Reciprocal-rank fusion of ranked lists, each with a weight; k = 60 and weights 1, 1 is core's. */
export function reciprocalRankFusion(
  lists: { ranked: Ranked; weight: number; depth: number }[],
  k = 60,
): string[] {
  const scores = new Map<string, number>();
  for (const { ranked, weight, depth } of lists) {
    ranked.ids.slice(0, depth).forEach((id, rank) => {
      scores.set(id, (scores.get(id) ?? 0) + weight / (k + rank + 1));
    });
  }
  return [...scores.entries()].sort((left, right) => right[1] - left[1]).map(([id]) => id);
}

type KeywordList = 'fts' | 'bm25';

function topScores(ranked: Ranked, depth: number, floor = -Infinity) {
  return ranked.ids
    .slice(0, depth)
    .map((id, index) => ({ id, score: Math.max(floor, ranked.scores[index]!) }));
}

/** Two-list reciprocal-rank fusion: the vector list against one keyword list. */
function rrf(
  name: string,
  keyword: KeywordList,
  [vectorWeight, keywordWeight]: [number, number],
  { depth = 50, k = 60 }: { depth?: number; k?: number } = {},
) {
  return {
    name,
    rank: (lists: QuestionLists) =>
      reciprocalRankFusion(
        [
          { ranked: lists.vector, weight: vectorWeight, depth },
          { ranked: lists[keyword], weight: keywordWeight, depth },
        ],
        k,
      ),
  };
}

/** Core's weighted score fusion (`fuseScores`) of the top 50 of each list, cosine floored at 0. */
function scoreFusion(keyword: KeywordList, keywordWeight: number) {
  const label = keyword === 'fts' ? 'FTS5' : 'core BM25';
  return {
    name: `score fusion ${(1 - keywordWeight).toFixed(1)} cosine + ${keywordWeight} ${label}/max`,
    rank: (lists: QuestionLists) =>
      fuseScores({
        similarities: topScores(lists.vector, 50, 0),
        keywordScores: topScores(lists[keyword], 50),
        keywordWeight,
      }).map((entry) => entry.id),
  };
}

const variants: { name: string; rank: (lists: QuestionLists) => string[] }[] = [
  rrf('RRF vector 1 : FTS5 1, k 60, 50 candidates (core before this change)', 'fts', [1, 1]),
  { name: 'FTS5 keyword list alone', rank: (lists) => lists.fts.ids },
  { name: 'core BM25 over the whole scope alone', rank: (lists) => lists.bm25.ids },
  rrf('RRF vector 1 : FTS5 1, 100 candidates', 'fts', [1, 1], { depth: 100 }),
  rrf('RRF vector 1 : FTS5 2', 'fts', [1, 2]),
  rrf('RRF vector 1 : FTS5 3', 'fts', [1, 3]),
  rrf('RRF vector 1 : FTS5 1, k 10', 'fts', [1, 1], { k: 10 }),
  rrf('RRF vector 1 : core BM25 (whole scope) 2', 'bm25', [1, 2]),
  rrf('RRF vector 1 : core BM25 (whole scope) 1', 'bm25', [1, 1]),
  scoreFusion('fts', 0.7),
  scoreFusion('fts', 0.5),
  scoreFusion('bm25', 0.7),
  scoreFusion('fts', 0.8),
  scoreFusion('fts', 0.9),
  scoreFusion('bm25', 0.8),
  rrf('RRF vector 0.3 : FTS5 1', 'fts', [0.3, 1]),
];

const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

/**
 * Tries fusion variants on the same candidate lists: the store's two queries (vector and FTS5,
 * as core's search makes them) plus core's BM25 over the whole scope. Rows: name, R@5, R@10.
 */
export async function runFusionExperiments(
  conversations: LocomoConversation[],
): Promise<string[][]> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-fusion-'));
  const store = createSqliteStore({ path: join(directory, 'engram.db') });
  const embedder = createHashEmbedder();
  const memory = new Memory({ vectorStore: store, embedder, llm: null });
  const recalls = variants.map(() => ({ at5: [] as number[], at10: [] as number[] }));
  try {
    for (const conversation of conversations) {
      const texts = conversation.turns.map((turn) => `${turn.speaker}: ${turn.text}`);
      await memory.import(
        conversation.turns.map((turn, index) => ({
          text: texts[index]!,
          userId: conversation.sampleId,
          metadata: { dia_id: turn.diaId },
        })),
      );
      for (const question of conversation.questions) {
        const [vector] = (await embedder.embed({ values: [question.question], purpose: 'query' }))
          .embeddings;
        const base = {
          collection: 'memories',
          topK: 100,
          scope: { userId: conversation.sampleId },
        };
        const [vectorMatches, ftsMatches] = await Promise.all([
          store.query({ ...base, vector: vector! }),
          store.query({ ...base, text: question.question }),
        ]);
        const toRanked = (matches: typeof vectorMatches): Ranked => ({
          ids: matches.map((match) => String(match.record.metadata?.dia_id)),
          scores: matches.map((match) => match.score),
        });
        const bm25Scores = scoreBM25(question.question, texts)
          .map((score, index) => ({ score, index }))
          .filter((entry) => entry.score > 0)
          .sort((left, right) => right.score - left.score || left.index - right.index)
          .slice(0, 100);
        const lists: QuestionLists = {
          vector: toRanked(vectorMatches),
          fts: toRanked(ftsMatches),
          bm25: {
            ids: bm25Scores.map((entry) => conversation.turns[entry.index]!.diaId),
            scores: bm25Scores.map((entry) => entry.score),
          },
        };
        variants.forEach((variant, index) => {
          const ranked = variant.rank(lists);
          recalls[index]!.at5.push(evidenceRecall(ranked, question.evidence, 5));
          recalls[index]!.at10.push(evidenceRecall(ranked, question.evidence, 10));
        });
      }
    }
  } finally {
    await memory.close();
    rmSync(directory, { recursive: true, force: true });
  }
  return variants.map((variant, index) => [
    variant.name,
    mean(recalls[index]!.at5).toFixed(3),
    mean(recalls[index]!.at10).toFixed(3),
  ]);
}
