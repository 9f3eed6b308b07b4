export { engramAdapter } from './opensearch-adapter.js';
export {
  type OpenSearchQuery,
  openSearchFilterOperators,
  translateOpenSearchFilter,
} from './opensearch-filter.js';
export { openSearchIndexBody } from './opensearch-mapping.js';
export { createOpenSearchVectorStore } from './opensearch-vector-store.js';
export type { OpenSearchVectorStoreOptions } from './opensearch-vector-store-options.js';
