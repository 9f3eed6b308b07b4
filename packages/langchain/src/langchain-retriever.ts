import type { FilterInput, Memory, Scope, SearchResultItem } from '@engram/core';
import { InvalidArgumentError, normalizeScope, scopeOf } from '@engram/core';
import type { CallbackManagerForRetrieverRun } from '@langchain/core/callbacks/manager';
import { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';

/** Metadata of each `Document` the retriever returns: the memory's own metadata plus these. */
export interface EngramDocumentMetadata extends Scope {
  /** Anything else the memory's metadata holds. */
  [key: string]: unknown;
  /** Memory id (also the document's `id`). */
  memoryId: string;
  /** Vector similarity to the query, higher is better. */
  score: number;
  /** Keyword (BM25) relevance, when the memory matched the query's words. */
  keywordScore?: number;
  /** Reranker score, when a reranker ran. */
  rerankScore?: number;
  /** ISO-8601 creation time. */
  createdAt: string;
  /** ISO-8601 time of the last change. */
  updatedAt: string;
}

/** Options of {@link EngramRetriever}: the scope whose memories are searched, and the search. */
export interface EngramRetrieverInput extends BaseRetrieverInput, Scope {
  /** Where memories are searched (a `Memory` from `@engram/core`). */
  memory: Pick<Memory, 'search'>;
  /** Number of documents. Default 4, as LangChain's vector store retrievers. */
  k?: number;
  /** Leave out memories whose similarity is below this. */
  threshold?: number;
  /** Metadata filter (portable AST or the mem0-style shorthand). */
  filters?: FilterInput;
  /** Run the Memory's reranker. Default: true when one is configured. */
  rerank?: boolean;
}

/** Turns one search result into a LangChain `Document`. */
export function memoryToDocument(result: SearchResultItem): Document<EngramDocumentMetadata> {
  const metadata: EngramDocumentMetadata = {
    ...result.metadata,
    ...scopeOf(result),
    memoryId: result.id,
    score: result.score,
    createdAt: result.createdAt,
    updatedAt: result.updatedAt,
  };
  if (result.keywordScore !== undefined) metadata.keywordScore = result.keywordScore;
  if (result.rerankScore !== undefined) metadata.rerankScore = result.rerankScore;
  return new Document({ id: result.id, pageContent: result.memory, metadata });
}

/**
 * A LangChain retriever over one scope's Engram memories: hybrid search (vectors fused with
 * keywords, then the optional reranker), each memory as a `Document` whose metadata carries the
 * memory id, scope, times and scores.
 *
 * ```ts
 * const retriever = new EngramRetriever({ memory, userId: 'alice', k: 5 });
 * const documents = await retriever.invoke('what does she eat?');
 * ```
 */
export class EngramRetriever extends BaseRetriever<EngramDocumentMetadata> {
  /** LangChain's class name for serialization and tracing. */
  static override lc_name(): string {
    return 'EngramRetriever';
  }

  /** LangChain's namespace for this class. */
  override lc_namespace = ['engram', 'retrievers'];

  /** Where memories are searched. */
  readonly memory: Pick<Memory, 'search'>;
  /** The scope searched. */
  readonly scope: Scope;
  /** Number of documents. */
  k: number;
  /** Similarity floor, when set. */
  threshold: number | undefined;
  /** Metadata filter, when set. */
  filters: FilterInput | undefined;
  /** Whether to rerank, when set. */
  rerank: boolean | undefined;

  constructor(fields: EngramRetrieverInput) {
    super(fields);
    if (!fields?.memory || typeof fields.memory.search !== 'function') {
      throw new InvalidArgumentError({
        source: 'langchain',
        message: 'EngramRetriever needs `memory`: pass a Memory from @engram/core.',
      });
    }
    this.memory = fields.memory;
    this.scope = normalizeScope(fields, { required: true, source: 'langchain' });
    this.k = fields.k ?? 4;
    this.threshold = fields.threshold;
    this.filters = fields.filters;
    this.rerank = fields.rerank;
  }

  override async _getRelevantDocuments(
    query: string,
    _runManager?: CallbackManagerForRetrieverRun,
  ): Promise<Document<EngramDocumentMetadata>[]> {
    const found = await this.memory.search(query, {
      ...this.scope,
      limit: this.k,
      ...(this.threshold === undefined ? {} : { threshold: this.threshold }),
      ...(this.filters === undefined ? {} : { filters: this.filters }),
      ...(this.rerank === undefined ? {} : { rerank: this.rerank }),
    });
    return found.results.map(memoryToDocument);
  }
}
