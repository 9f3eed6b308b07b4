export { engramAdapter } from './elasticsearch-adapter.js';
export {
  type ElasticsearchQuery,
  elasticsearchFilterOperators,
  translateElasticsearchFilter,
} from './elasticsearch-filter.js';
export { elasticsearchIndexBody } from './elasticsearch-mapping.js';
export { createElasticsearchVectorStore } from './elasticsearch-vector-store.js';
export type { ElasticsearchVectorStoreOptions } from './elasticsearch-vector-store-options.js';
