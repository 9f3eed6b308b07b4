import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHashEmbedder, type Embedder, fuseScores, Memory, scoreBM25 } from '@engram/core';
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

/** A way of ranking one question's turns from its candidate lists. */
export interface FusionVariant {
  name: string;
  rank: (lists: QuestionLists) => string[];
}

const variants: FusionVariant[] = [
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

/** Normalizations of one signal over a question's candidates, before a weighted sum. */
const normalizations: Record<string, (ranked: Ranked, depth: number) => (score: number) => number> =
  {
    raw: () => (score) => score,
    max: (ranked) => (score) => score / (ranked.scores[0] || 1),
    'min-max': (ranked, depth) => {
      const top = ranked.scores[0] ?? 1;
      const floor = ranked.scores[Math.min(depth, ranked.scores.length) - 1] ?? 0;
      return (score) => Math.max(0, (score - floor) / (top - floor || 1));
    },
    // Distribution-based score fusion: mean +- 3 standard deviations mapped to 0..1.
    dbsf: (ranked, depth) => {
      const scores = ranked.scores.slice(0, depth);
      const average = scores.reduce((sum, value) => sum + value, 0) / Math.max(1, scores.length);
      const deviation =
        Math.sqrt(
          scores.reduce((sum, value) => sum + (value - average) ** 2, 0) /
            Math.max(1, scores.length),
        ) || 1;
      return (score) =>
        Math.min(1, Math.max(0, (score - (average - 3 * deviation)) / (6 * deviation)));
    },
  };

/**
 * A weighted sum of the vector similarity and the FTS5 relevance (and optionally core's BM25),
 * each normalized its own way over the top `depth` of its list; a candidate missing from a list
 * counts 0 there, and one below the similarity cut-off is left out (as core does).
 */
function weightedFusion(
  name: string,
  options: {
    vector?: string;
    keyword?: string;
    keywordWeight: number;
    bm25Weight?: number;
    depth?: number;
    threshold?: number;
  },
): FusionVariant {
  const { keywordWeight, bm25Weight = 0, depth = 50, threshold = 0.2 } = options;
  return {
    name,
    rank: (lists) => {
      const similarity = new Map(
        lists.vector.ids.map((id, index) => [id, lists.vector.scores[index]!]),
      );
      const vector = normalizations[options.vector ?? 'raw']!(lists.vector, depth);
      const keyword = normalizations[options.keyword ?? 'max']!(lists.fts, depth);
      const bm25 = normalizations.max!(lists.bm25, depth);
      const keywordOf = new Map(
        lists.fts.ids.slice(0, depth).map((id, index) => [id, lists.fts.scores[index]!]),
      );
      const bm25Of = new Map(
        lists.bm25.ids.slice(0, depth).map((id, index) => [id, lists.bm25.scores[index]!]),
      );
      const candidates = new Set([...lists.vector.ids.slice(0, depth), ...keywordOf.keys()]);
      return [...candidates]
        .filter((id) => (similarity.get(id) ?? 0) >= threshold)
        .map((id) => ({
          id,
          score:
            (1 - keywordWeight - bm25Weight) * vector(similarity.get(id) ?? 0) +
            (keywordOf.has(id) ? keywordWeight * keyword(keywordOf.get(id)!) : 0) +
            (bm25Of.has(id) ? bm25Weight * bm25(bm25Of.get(id)!) : 0),
        }))
        .sort((left, right) => right.score - left.score || (left.id < right.id ? -1 : 1))
        .map((entry) => entry.id);
    },
  };
}

/** The turn `offset` places after a `D<session>:<n>` turn, in the same session. */
function turnAfter(id: string, offset: number): string {
  const match = /^D(\d+):(\d+)$/.exec(id);
  return match ? `D${match[1]}:${Number(match[2]) + offset}` : id;
}

/**
 * Conversation context: the turn that follows each of the first `top` results is put right after
 * it. Uses the order of the conversation, which the vector store contract cannot ask for today
 * (filters address metadata, not creation order): an upper bound for a future "context" option.
 */
function withFollowingTurns(base: FusionVariant, top: number): FusionVariant {
  return {
    name: `${base.name}, then the turn after each of the first ${top}`,
    rank: (lists) => {
      const ranked: string[] = [];
      for (const [index, id] of base.rank(lists).entries()) {
        if (!ranked.includes(id)) ranked.push(id);
        const next = turnAfter(id, 1);
        if (index < top && !ranked.includes(next)) ranked.push(next);
      }
      return ranked;
    },
  };
}

const core = weightedFusion('score fusion 0.5 cosine + 0.5 FTS5/max (core before, local model)', {
  keywordWeight: 0.5,
});
const coreNow = weightedFusion('score fusion 0.7 cosine + 0.3 FTS5/max (core now, local model)', {
  keywordWeight: 0.3,
});

/** Variants measured with the local model (all-MiniLM-L6-v2) on the same lists. */
export const localModelVariants: FusionVariant[] = [
  { name: 'vector list alone', rank: (lists) => lists.vector.ids },
  { name: 'FTS5 keyword list alone', rank: (lists) => lists.fts.ids },
  core,
  coreNow,
  weightedFusion('score fusion 0.6 cosine + 0.4 FTS5/max', { keywordWeight: 0.4 }),
  weightedFusion('score fusion 0.4 cosine + 0.6 FTS5/max', { keywordWeight: 0.6 }),
  weightedFusion('score fusion 0.5 + 0.5, no cut-off', { keywordWeight: 0.5, threshold: -1 }),
  weightedFusion('score fusion 0.5 + 0.5, 100 candidates', { keywordWeight: 0.5, depth: 100 }),
  weightedFusion('score fusion 0.5 min-max cosine + 0.5 FTS5/max', {
    vector: 'min-max',
    keywordWeight: 0.5,
  }),
  weightedFusion('score fusion 0.6 cosine/max + 0.4 FTS5/max', {
    vector: 'max',
    keywordWeight: 0.4,
  }),
  weightedFusion('distribution-based (mean +- 3 sd) both, 0.5 + 0.5', {
    vector: 'dbsf',
    keyword: 'dbsf',
    keywordWeight: 0.5,
  }),
  weightedFusion('score fusion 0.6 cosine + 0.3 FTS5/max + 0.1 core BM25/max', {
    keywordWeight: 0.3,
    bm25Weight: 0.1,
  }),
  rrf('RRF vector 1 : FTS5 1, k 60', 'fts', [1, 1]),
  rrf('RRF vector 1 : FTS5 1, k 10', 'fts', [1, 1], { k: 10 }),
  withFollowingTurns(coreNow, 2),
];

const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

/**
 * Tries fusion variants on the same candidate lists: the store's two queries (vector and FTS5,
 * as core's search makes them) plus core's BM25 over the whole scope. Rows: name, R@5, R@10.
 * Default: the hash embedder and its variants.
 */
export async function runFusionExperiments(
  conversations: LocomoConversation[],
  {
    embedder = createHashEmbedder(),
    variants: tried = variants,
  }: { embedder?: Embedder; variants?: FusionVariant[] } = {},
): Promise<string[][]> {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-fusion-'));
  const store = createSqliteStore({ path: join(directory, 'engram.db') });
  const memory = new Memory({ vectorStore: store, embedder, llm: null });
  const recalls = tried.map(() => ({ at5: [] as number[], at10: [] as number[] }));
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
        // Every turn's similarity (as core fetches those of keyword-only hits), for the cut-off.
        const [vectorMatches, ftsMatches] = await Promise.all([
          store.query({ ...base, topK: 1000, vector: vector! }),
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
        tried.forEach((variant, index) => {
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
  return tried.map((variant, index) => [
    variant.name,
    mean(recalls[index]!.at5).toFixed(3),
    mean(recalls[index]!.at10).toFixed(3),
  ]);
}
