import { elasticsearchCompatibleFilterTranslation } from '@engram/elasticsearch-compatible';

const { operators, translate } = elasticsearchCompatibleFilterTranslation('elasticsearch');

/** A node of the Elasticsearch query DSL. */
export type ElasticsearchQuery = ReturnType<typeof translate>;

/** Every operator of the portable filter language is translated natively. */
export const elasticsearchFilterOperators = operators;

/**
 * Translates core's portable filter into an Elasticsearch query over the derived metadata fields,
 * applied inside the search (as a k-NN pre-filter for vector queries), never after it. See
 * `translateElasticsearchCompatibleFilter` for the semantics of each operator.
 */
export const translateElasticsearchFilter = translate;
