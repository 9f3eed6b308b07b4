import { scoreBM25 } from './bm25.js';
import { UnsupportedFunctionalityError } from './errors.js';
import { isExpired, withUnexpiredFilter } from './expiry.js';
import type { FilterExpression } from './filter.js';
import { type FusedScore, fuseScores, type ScoredId } from './fuse-scores.js';
import type { MemoryEngine } from './memory-engine.js';
import { checkFilter, maxLimit } from './memory-input.js';
import { toMemoryItem } from './memory-item.js';
import type {
  ScoreContribution,
  ScoreExplanation,
  SearchOptions,
  SearchResult,
  SearchResultItem,
  SearchScores,
} from './memory-types.js';
import type { Scope } from './scope.js';
import {
  adjacentRecords,
  checkSearchContext,
  type PlacedEntry,
  placeNeighbours,
  type ResolvedSearchContext,
} from './search-context.js';
import { cosineSimilarity } from './similarity.js';
import { keywordText } from './text.js';
import type { StoredRecord, VectorMatch } from './vector-store.js';

/** A checked search: the query, its scope and result count, and the caller's options. */
export interface SearchRequest {
  query: string;
  scope: Scope;
  limit: number;
  options: SearchOptions;
}

const scored = (match: VectorMatch): ScoredId => ({ id: match.record.id, score: match.score });

/** Keyword relevance computed in core over the vector candidates, for stores without full-text search. */
function keywordMatchesInCore(query: string, vectorMatches: VectorMatch[]): VectorMatch[] {
  const scores = scoreBM25(
    query,
    vectorMatches.map((match) => match.record.text),
  );
  return vectorMatches
    .map((match, index) => ({ record: match.record, score: scores[index]! }))
    .filter((match) => match.score > 0);
}

/**
 * Similarities of the keyword hits the vector query did not return: their vectors are fetched
 * (only theirs), so that every result carries a similarity (`scores.vector`), what `threshold` applies to.
 */
async function similaritiesOfKeywordHits(
  engine: MemoryEngine,
  {
    ids,
    queryVector,
    abortSignal,
  }: { ids: string[]; queryVector: number[]; abortSignal?: AbortSignal | undefined },
): Promise<ScoredId[]> {
  if (ids.length === 0) return [];
  const records = await engine.store.get({
    collection: engine.collection,
    ids,
    includeVectors: true,
    ...(abortSignal ? { abortSignal } : {}),
  });
  return records.flatMap((record) =>
    record.vector ? [{ id: record.id, score: cosineSimilarity(queryVector, record.vector) }] : [],
  );
}

/** Slack for similarities computed twice (by the store in float32, here in float64). */
const similarityEpsilon = 1e-6;

/**
 * The keyword-only hits that could still rank among the first `limit` results, so that only their
 * vectors are fetched. When the vector query returned a full `topK`, a record it left out is no
 * more similar than its last match; a hit whose best possible fused score is below the `limit`-th
 * fused score of the vector matches (those that pass the threshold) cannot be returned. Keeps
 * every hit when a reranker will see all candidates.
 */
function rankableKeywordHits(
  keywordOnly: VectorMatch[],
  context: {
    vectorMatches: VectorMatch[];
    keywordMatches: VectorMatch[];
    keywordWeight: number;
    topK: number;
    limit: number;
    threshold: number | undefined;
    reranks: boolean;
  },
): VectorMatch[] {
  const { vectorMatches, keywordWeight, threshold } = context;
  if (context.reranks || keywordOnly.length === 0 || vectorMatches.length < context.topK) {
    return keywordOnly;
  }
  const bestSimilarity = Math.min(...vectorMatches.map((match) => match.score)) + similarityEpsilon;
  if (threshold !== undefined && bestSimilarity < threshold) return [];
  const ranked = fuseScores({
    similarities: vectorMatches.map(scored),
    keywordScores: context.keywordMatches.map(scored),
    keywordWeight,
  }).filter(
    (entry) =>
      entry.similarity !== undefined && (threshold === undefined || entry.similarity >= threshold),
  );
  const cutoff = ranked[context.limit - 1]?.score;
  if (cutoff === undefined) return keywordOnly;
  const bestKeyword = Math.max(0, ...context.keywordMatches.map((match) => match.score));
  return keywordOnly.filter(
    (match) =>
      (1 - keywordWeight) * bestSimilarity +
        (bestKeyword > 0 ? (keywordWeight * match.score) / bestKeyword : 0) +
        similarityEpsilon >=
      cutoff,
  );
}

async function rerank(
  engine: MemoryEngine,
  request: SearchRequest,
  ranked: RankedEntry[],
): Promise<RankedEntry[]> {
  const { reranker } = engine;
  if (!reranker || request.options.rerank === false || ranked.length === 0) return ranked;
  const reranked = await reranker.rerank({
    query: request.query,
    documents: ranked.map((entry) => entry.record.text),
    topN: request.limit,
    ...(request.options.abortSignal ? { abortSignal: request.options.abortSignal } : {}),
  });
  return reranked.results
    .filter((result) => ranked[result.index] !== undefined)
    .map((result) => ({ ...ranked[result.index]!, rerankScore: result.score }));
}

interface RankedEntry extends FusedScore {
  record: StoredRecord;
  rerankScore?: number;
}

/** How a result's score was made, signal by signal. */
function explain(
  entry: RankedEntry,
  context: { keywordWeight: number; bestKeyword: number; threshold: number; keywords: boolean },
): ScoreExplanation {
  const similarity = entry.similarity ?? 0;
  const contributions: ScoreContribution[] = [
    {
      signal: 'vector',
      raw: similarity,
      normalized: similarity,
      weight: 1 - context.keywordWeight,
      contribution: (1 - context.keywordWeight) * similarity,
    },
  ];
  if (context.keywords) {
    const raw = entry.keywordScore ?? 0;
    const normalized = context.bestKeyword > 0 ? raw / context.bestKeyword : 0;
    contributions.push({
      signal: 'keyword',
      raw,
      normalized,
      weight: context.keywordWeight,
      contribution: context.keywordWeight * normalized,
    });
  }
  if (entry.rerankScore !== undefined) {
    const raw = entry.rerankScore;
    contributions.push({ signal: 'rerank', raw, normalized: raw, weight: 1, contribution: raw });
  }
  return {
    rankedBy: entry.rerankScore === undefined ? 'fusion' : 'rerank',
    threshold: context.threshold,
    contributions,
  };
}

function toResult(
  { entry, neighbourOf }: PlacedEntry<RankedEntry>,
  explanation: ScoreExplanation | undefined,
  anchorScore: number | undefined,
) {
  const { vector: _vector, ...record } = entry.record;
  const { id, memory, ...rest } = toMemoryItem(record);
  const { keywordScore, rerankScore } = entry;
  const scores: SearchScores = {
    vector: entry.similarity ?? 0,
    ...(keywordScore === undefined ? {} : { keyword: keywordScore }),
    fused: entry.score,
    ...(rerankScore === undefined ? {} : { rerank: rerankScore }),
  };
  return {
    id,
    memory,
    score: anchorScore ?? rerankScore ?? entry.score,
    scores,
    ...rest,
    ...(keywordScore === undefined ? {} : { keywordScore }),
    ...(rerankScore === undefined ? {} : { rerankScore }),
    ...(neighbourOf === undefined ? {} : { neighbourOf }),
    ...(explanation
      ? {
          explanation:
            neighbourOf === undefined
              ? explanation
              : { ...explanation, rankedBy: 'context' as const },
        }
      : {}),
  } satisfies SearchResultItem;
}

/** What finding the neighbours of the first hits needs from the search. */
interface NeighbourSearch {
  context: ResolvedSearchContext;
  /**
   * Whether the call or the Memory asked for it: then a store without `adjacent` is read, and one
   * whose scope is too large to read is an error.
   */
  explicit: boolean;
  filter: FilterExpression | undefined;
  queryVector: number[];
  keywordWeight: number;
  candidates: ReadonlyMap<string, FusedScore>;
  now: Date;
}

/**
 * The ranking with the neighbours of its first hits placed after them ({@link placeNeighbours}),
 * cut to `limit`. A neighbour that was a candidate keeps its scores; another gets its similarity
 * (its vector is fetched with it) and no keyword score. The threshold does not apply to them.
 */
async function withNeighbours(
  engine: MemoryEngine,
  request: SearchRequest,
  ranked: RankedEntry[],
  search: NeighbourSearch,
): Promise<PlacedEntry<RankedEntry>[]> {
  const { context, filter, abortSignal } = { ...search, abortSignal: request.options.abortSignal };
  const plain = () => ranked.slice(0, request.limit).map((entry) => ({ entry }));
  const anchors = ranked.slice(0, Math.min(context.hits, request.limit)).map((entry) => entry.id);
  // Reading a scope to find neighbours costs a search too much to do unasked: by default only a
  // store that answers `adjacent` from an index adds them.
  if (anchors.length === 0 || request.limit < 2 || (!engine.store.adjacent && !search.explicit)) {
    return plain();
  }
  const found = await adjacentRecords(engine.store, {
    collection: engine.collection,
    ids: anchors,
    scope: request.scope,
    ...(filter ? { filter } : {}),
    before: context.before,
    after: context.after,
    includeVectors: true,
    ...(abortSignal ? { abortSignal } : {}),
  });
  if (!found) {
    if (!search.explicit) return plain();
    throw new UnsupportedFunctionalityError({
      source: 'core',
      message: `The ${engine.store.provider} store cannot find the memories written next to a result (it has no adjacent()), and this scope holds too many memories to read whole. Search without context, or use a store that has it (sqlite).`,
    });
  }
  const toEntry = (record: StoredRecord): RankedEntry => {
    const { vector, ...stored } = record;
    const known = search.candidates.get(record.id);
    if (known) return { ...known, record: stored };
    const similarity = vector ? cosineSimilarity(search.queryVector, vector) : 0;
    return {
      id: record.id,
      score: (1 - search.keywordWeight) * similarity,
      similarity,
      record: stored,
    };
  };
  const live = (records: StoredRecord[]) =>
    records.filter((record) => !isExpired(record, search.now)).map(toEntry);
  const neighbours = new Map(
    found.map((entry) => [entry.id, { before: live(entry.before), after: live(entry.after) }]),
  );
  return placeNeighbours(ranked, neighbours, {
    idOf: (entry) => entry.id,
    hits: context.hits,
    limit: request.limit,
  });
}

/**
 * Hybrid search of one scope: the vector query and the keyword query (native full-text search,
 * or BM25 in core over the vector candidates) run together with the graph search, their scores
 * are fused ({@link fuseScores}), the threshold (the call's, else the Memory's default cut-off)
 * applies to similarity, then the reranker runs. Each result's `score` is what ordered it.
 */
export async function searchMemories(
  engine: MemoryEngine,
  request: SearchRequest,
): Promise<SearchResult> {
  const { query, scope, limit, options } = request;
  const { store, graph } = engine;
  const context =
    options.context === undefined ? engine.searchContext : checkSearchContext(options.context);
  const now = engine.now();
  const filter = withUnexpiredFilter(store, checkFilter(store, options.filters), now);
  const [queryVector] = await engine.embed([query], 'query', options.abortSignal);
  const base = {
    collection: engine.collection,
    topK: Math.min(Math.max(limit * 5, 50), maxLimit),
    scope,
    ...(filter ? { filter } : {}),
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  };
  const useKeywords = options.keywordSearch !== false;
  const [vectorMatches, nativeKeywordMatches, relations] = await Promise.all([
    store.query({ ...base, vector: queryVector! }),
    useKeywords && store.capabilities.keywordSearch
      ? store.query({ ...base, text: keywordText(query) })
      : undefined,
    graph?.search(query, queryVector!, scope, limit, options.abortSignal),
  ]);
  const keywordMatches = useKeywords
    ? (nativeKeywordMatches ?? keywordMatchesInCore(query, vectorMatches))
    : [];

  const keywordWeight = useKeywords ? engine.keywordWeight : 0;
  const cutoff = options.threshold ?? engine.searchThreshold;
  const threshold = cutoff > 0 ? cutoff : undefined;
  const records = new Map(vectorMatches.map((match) => [match.record.id, match.record]));
  const keywordOnly = rankableKeywordHits(
    keywordMatches.filter((match) => !records.has(match.record.id)),
    {
      vectorMatches,
      keywordMatches,
      keywordWeight,
      topK: base.topK,
      limit,
      threshold,
      reranks: Boolean(engine.reranker) && options.rerank !== false,
    },
  );
  for (const match of keywordOnly) records.set(match.record.id, match.record);
  const similarities = [
    ...vectorMatches.map(scored),
    ...(await similaritiesOfKeywordHits(engine, {
      ids: keywordOnly.map((match) => match.record.id),
      queryVector: queryVector!,
      abortSignal: options.abortSignal,
    })),
  ];
  const candidates = fuseScores({
    similarities,
    keywordScores: keywordMatches.map(scored),
    keywordWeight,
  });
  const fused = candidates
    .filter((entry) => records.has(entry.id) && !isExpired(records.get(entry.id)!, now))
    .filter((entry) => threshold === undefined || (entry.similarity ?? 0) >= threshold)
    .map((entry) => ({ ...entry, record: records.get(entry.id)! }));
  const ranked = await rerank(engine, request, fused);
  const explanation = options.explain
    ? {
        keywordWeight,
        bestKeyword: Math.max(0, ...keywordMatches.map((match) => match.score)),
        threshold: threshold ?? 0,
        keywords: useKeywords,
      }
    : undefined;
  const placed: PlacedEntry<RankedEntry>[] = context
    ? await withNeighbours(engine, request, ranked, {
        context,
        explicit: options.context !== undefined || engine.options.searchContext !== undefined,
        filter,
        queryVector: queryVector!,
        keywordWeight,
        candidates: new Map(candidates.map((entry) => [entry.id, entry])),
        now,
      })
    : ranked.slice(0, limit).map((entry) => ({ entry }));
  const shownScore = (entry: RankedEntry) => entry.rerankScore ?? entry.score;
  const anchorScores = new Map(ranked.map((entry) => [entry.id, shownScore(entry)]));
  return {
    results: placed.map((item) =>
      toResult(
        item,
        explanation && explain(item.entry, explanation),
        item.neighbourOf === undefined ? undefined : anchorScores.get(item.neighbourOf),
      ),
    ),
    ...(relations ? { relations } : {}),
  };
}
