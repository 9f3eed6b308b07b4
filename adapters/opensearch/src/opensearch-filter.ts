import { elasticsearchCompatibleFilterTranslation } from '@engram/elasticsearch-compatible';

const { operators, translate } = elasticsearchCompatibleFilterTranslation('opensearch');

/** A node of the OpenSearch query DSL. */
export type OpenSearchQuery = ReturnType<typeof translate>;

/** Every operator of the portable filter language is translated natively. */
export const openSearchFilterOperators = operators;

/**
 * Translates core's portable filter into an OpenSearch query over the derived metadata fields,
 * applied inside the search (inside the k-NN query for vector queries), never after it. See
 * `translateElasticsearchCompatibleFilter` for the semantics of each operator.
 */
export const translateOpenSearchFilter = translate;
