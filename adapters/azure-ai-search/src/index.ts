export { engramAdapter } from './azure-ai-search-adapter.js';
export {
  isRetryableAzureAiSearchError,
  toAzureAiSearchError,
} from './azure-ai-search-errors.js';
export type {
  AzureAiSearchFilterFields,
  AzureAiSearchFilterTranslation,
  AzureAiSearchNumberEntry,
  AzureAiSearchStringEntry,
} from './azure-ai-search-filter.js';
export {
  azureAiSearchFilterFields,
  azureAiSearchFilterOperators,
  translateAzureAiSearchFilter,
} from './azure-ai-search-filter.js';
export type {
  AzureAiSearchDocument,
  AzureAiSearchVectorStoreOptions,
} from './azure-ai-search-vector-store.js';
export {
  createAzureAiSearchVectorStore,
  defaultAzureAiSearchIndexName,
} from './azure-ai-search-vector-store.js';
