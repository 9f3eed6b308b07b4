import type { FilterExpression, FilterOperator } from '@engram/core';
import {
  type ElasticsearchCompatibleQuery,
  elasticsearchCompatibleFilterOperators,
  translateElasticsearchCompatibleFilter,
} from '@engram/elasticsearch-compatible';

/** A node of the Elasticsearch query DSL. */
export type ElasticsearchQuery = ElasticsearchCompatibleQuery;

/** Every operator of the portable filter language is translated natively. */
export const elasticsearchFilterOperators: readonly FilterOperator[] =
  elasticsearchCompatibleFilterOperators;

/**
 * Translates core's portable filter into an Elasticsearch query over the derived metadata fields,
 * applied inside the search (as a k-NN pre-filter for vector queries), never after it. See
 * `translateElasticsearchCompatibleFilter` for the semantics of each operator.
 */
export function translateElasticsearchFilter(filter: FilterExpression): ElasticsearchQuery {
  return translateElasticsearchCompatibleFilter(filter, { source: 'elasticsearch' });
}
