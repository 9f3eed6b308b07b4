import {
  type FilterExpression,
  type FilterOperator,
  type FilterScalar,
  filterOperators,
  type Scope,
  UnsupportedFunctionalityError,
  validateFilter,
} from '@engram/core';
import {
  encodeTerm,
  maxIndexedTermLength,
  metadataElementsField,
  metadataPathsField,
  metadataTermsField,
  type TermTag,
  termPrefix,
  termUpperBound,
} from './elasticsearch-compatible-document.js';

/** A node of the Elasticsearch (and OpenSearch) query DSL. */
export type ElasticsearchCompatibleQuery = Record<string, unknown>;

/** Every operator of the portable filter language is translated natively. */
export const elasticsearchCompatibleFilterOperators: readonly FilterOperator[] = filterOperators;

/** Options of {@link translateElasticsearchCompatibleFilter}. */
export interface TranslateFilterOptions {
  /** The adapter, for the prefix of the errors thrown. */
  source: string;
}

const matchNone: ElasticsearchCompatibleQuery = { match_none: {} };
const matchAll: ElasticsearchCompatibleQuery = { match_all: {} };

function not(query: ElasticsearchCompatibleQuery): ElasticsearchCompatibleQuery {
  return { bool: { must_not: [query] } };
}

/** Escapes the wildcard query's special characters (`*`, `?` and the escape `\`). */
export function escapeWildcard(value: string): string {
  return value.replace(/[\\*?]/g, (character) => `\\${character}`);
}

function createTranslator({ source }: TranslateFilterOptions) {
  function indexable(field: string, value: FilterScalar): string {
    const term = encodeTerm(field, value);
    if (term.length > maxIndexedTermLength) {
      throw new UnsupportedFunctionalityError({
        source,
        message: `The filter value for "${field}" is too long: values are indexed for filtering up to ${maxIndexedTermLength} characters including the field path.`,
      });
    }
    return term;
  }

  function anyOf(field: string, values: FilterScalar[]): ElasticsearchCompatibleQuery {
    if (values.length === 0) return matchNone;
    const terms = [...new Set(values.map((value) => indexable(field, value)))];
    return { terms: { [metadataTermsField]: terms } };
  }

  function range(
    field: string,
    op: 'gt' | 'gte' | 'lt' | 'lte',
    value: number | string,
  ): ElasticsearchCompatibleQuery {
    const tag: TermTag = typeof value === 'string' ? 's' : 'n';
    const bound = indexable(field, value);
    // Every bound stays inside the terms of this path and type, so other fields, and values of
    // another type at this path, never fall in the range.
    const limits =
      op === 'gt' || op === 'gte'
        ? { [op]: bound, lt: termUpperBound(field, tag) }
        : { gte: termPrefix(field, tag), [op]: bound };
    return { range: { [metadataTermsField]: limits } };
  }

  function contains(field: string, value: FilterScalar): ElasticsearchCompatibleQuery {
    const element = { term: { [metadataElementsField]: indexable(field, value) } };
    if (typeof value !== 'string') return element;
    const pattern = `${escapeWildcard(termPrefix(field, 's'))}*${escapeWildcard(value)}*`;
    const substring = { wildcard: { [metadataTermsField]: { value: pattern } } };
    return { bool: { should: [element, substring], minimum_should_match: 1 } };
  }

  function translate(filter: FilterExpression): ElasticsearchCompatibleQuery {
    switch (filter.op) {
      case 'eq':
        return { term: { [metadataTermsField]: indexable(filter.field, filter.value) } };
      case 'ne':
        return not(translate({ ...filter, op: 'eq' }));
      case 'in':
        return anyOf(filter.field, filter.values);
      case 'nin':
        return filter.values.length === 0 ? matchAll : not(anyOf(filter.field, filter.values));
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return range(filter.field, filter.op, filter.value);
      case 'contains':
        return contains(filter.field, filter.value);
      case 'exists':
        return { term: { [metadataPathsField]: filter.field } };
      case 'and':
        return { bool: { filter: filter.filters.map(translate) } };
      case 'or':
        return { bool: { should: filter.filters.map(translate), minimum_should_match: 1 } };
      case 'not':
        return not(translate(filter.filter));
    }
  }
  return translate;
}

/**
 * Translates core's portable filter into a query over the derived metadata fields (see
 * `indexMetadata`): exact, typed semantics for every operator, applied inside the search (as a
 * k-NN pre-filter for vector queries), never after it.
 *
 * - `eq`/`in`: a `term`/`terms` query on the typed term of the value, so `1`, `"1"` and `true`
 *   stay apart and arrays never equal a scalar;
 * - `ne`/`nin`/`not`: `must_not`, which matches records without the field;
 * - `gt`/`gte`/`lt`/`lte`: a `range` over the terms of that path and type; numbers are encoded
 *   so that term order is numeric order, strings compare by UTF-8 bytes;
 * - `contains`: an array element (`term` on the elements field), or, for strings, a
 *   case-sensitive `wildcard` substring of a string value;
 * - `exists`: a `term` on the field's path, recorded for every value that is not null.
 *
 * Throws `InvalidArgumentError` for a malformed filter and `UnsupportedFunctionalityError` for a
 * value too long to be indexed.
 */
export function translateElasticsearchCompatibleFilter(
  filter: FilterExpression,
  options: TranslateFilterOptions,
): ElasticsearchCompatibleQuery {
  return createTranslator(options)(validateFilter(filter));
}

/** The scope as `term` queries on the keyword scope fields; a missing field never matches. */
export function scopeQueries(scope: Scope): ElasticsearchCompatibleQuery[] {
  const queries: ElasticsearchCompatibleQuery[] = [];
  if (scope.userId !== undefined) queries.push({ term: { user_id: scope.userId } });
  if (scope.agentId !== undefined) queries.push({ term: { agent_id: scope.agentId } });
  if (scope.runId !== undefined) queries.push({ term: { run_id: scope.runId } });
  return queries;
}

/** Scope and filter as one query, or `match_all` when there is neither. */
export function selectionQuery(
  scope: Scope,
  filter: FilterExpression | undefined,
  options: TranslateFilterOptions,
): ElasticsearchCompatibleQuery {
  const clauses = scopeQueries(scope);
  if (filter) clauses.push(translateElasticsearchCompatibleFilter(filter, options));
  return clauses.length === 0 ? matchAll : { bool: { filter: clauses } };
}

/** Whether a query is the `match_all` that {@link selectionQuery} returns for no selection. */
export function isMatchAll(query: ElasticsearchCompatibleQuery): boolean {
  return 'match_all' in query;
}

/** One adapter's filter translation: what it exports as `<backend>FilterOperators` and `translate<Backend>Filter`. */
export interface ElasticsearchCompatibleFilterTranslation {
  /** Every operator of the portable filter language: all are translated natively. */
  operators: readonly FilterOperator[];
  /** {@link translateElasticsearchCompatibleFilter} with the adapter's name on its errors. */
  translate: (filter: FilterExpression) => ElasticsearchCompatibleQuery;
}

/** The filter translation of the adapter named `source`. */
export function elasticsearchCompatibleFilterTranslation(
  source: string,
): ElasticsearchCompatibleFilterTranslation {
  return {
    operators: elasticsearchCompatibleFilterOperators,
    translate: (filter) => translateElasticsearchCompatibleFilter(filter, { source }),
  };
}
