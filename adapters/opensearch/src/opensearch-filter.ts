import type { FilterExpression, FilterOperator } from '@engram/core';
import {
  type ElasticsearchCompatibleQuery,
  elasticsearchCompatibleFilterOperators,
  translateElasticsearchCompatibleFilter,
} from '@engram/elasticsearch-compatible';

/** A node of the OpenSearch query DSL. */
export type OpenSearchQuery = ElasticsearchCompatibleQuery;

/** Every operator of the portable filter language is translated natively. */
export const openSearchFilterOperators: readonly FilterOperator[] =
  elasticsearchCompatibleFilterOperators;

/**
 * Translates core's portable filter into an OpenSearch query over the derived metadata fields,
 * applied inside the search (inside the k-NN query for vector queries), never after it. See
 * `translateElasticsearchCompatibleFilter` for the semantics of each operator.
 */
export function translateOpenSearchFilter(filter: FilterExpression): OpenSearchQuery {
  return translateElasticsearchCompatibleFilter(filter, { source: 'opensearch' });
}
