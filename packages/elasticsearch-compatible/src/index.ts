export type {
  BulkItem,
  BulkResponse,
  ElasticsearchCompatibleClient,
  ElasticsearchCompatibleHit,
  ElasticsearchCompatibleIndexStats,
  MgetResponse,
  Refresh,
  SearchBody,
  SearchResponse,
} from './elasticsearch-compatible-client.js';
export type {
  BasicAuth,
  ConnectionSettings,
  ElasticsearchCompatibleAuth,
  ElasticsearchCompatibleClientConnection,
  ElasticsearchCompatibleConnectionOptions,
} from './elasticsearch-compatible-connection.js';
export { elasticsearchCompatibleConnection } from './elasticsearch-compatible-connection.js';
export type {
  ClosableClient,
  ElasticsearchCompatibleAuthentication,
  ElasticsearchCompatibleDialect,
  ElasticsearchCompatibleEngine,
  ElasticsearchCompatibleStoreOptions,
  VectorQueryOptions,
} from './elasticsearch-compatible-dialect.js';
export type {
  ElasticsearchCompatibleDocument,
  MetadataIndex,
  TermTag,
} from './elasticsearch-compatible-document.js';
export {
  derivedFields,
  encodeTerm,
  fromSource,
  indexMetadata,
  maxIndexedTermLength,
  metadataElementsField,
  metadataPathsField,
  metadataTermsField,
  sortableNumber,
  tagOf,
  termPrefix,
  termUpperBound,
  toDocument,
} from './elasticsearch-compatible-document.js';
export type {
  ElasticsearchCompatibleErrorContext,
  ElasticsearchCompatibleResponse,
  ResponseReader,
} from './elasticsearch-compatible-errors.js';
export {
  readResponseError,
  toElasticsearchCompatibleError,
} from './elasticsearch-compatible-errors.js';
export type {
  ElasticsearchCompatibleFilterTranslation,
  ElasticsearchCompatibleQuery,
  TranslateFilterOptions,
} from './elasticsearch-compatible-filter.js';
export {
  elasticsearchCompatibleFilterOperators,
  elasticsearchCompatibleFilterTranslation,
  escapeWildcard,
  isMatchAll,
  scopeQueries,
  selectionQuery,
  translateElasticsearchCompatibleFilter,
} from './elasticsearch-compatible-filter.js';
export type {
  ElasticsearchCompatibleIndexBody,
  ElasticsearchCompatibleMapping,
  IndexBodyOptions,
} from './elasticsearch-compatible-mapping.js';
export {
  cosineFromScore,
  dimensionsOfMapping,
  elasticsearchCompatibleIndexBody,
} from './elasticsearch-compatible-mapping.js';
export {
  checkIndexName,
  createElasticsearchCompatibleVectorStore,
  maxResultWindow,
} from './elasticsearch-compatible-vector-store.js';
