export { defaultDataDirectory } from '@engram/core';
export { assertPositiveInteger, assertRecords, assertVectorLength, chunk } from './arguments.js';
export type { AdapterCallErrorContext } from './call-error.js';
export { toAdapterCallError } from './call-error.js';
export type { GraphStoreDefinition, VectorStoreDefinition } from './define-store.js';
export { defineGraphStore, defineVectorStore } from './define-store.js';
export type { ChunkwiseOrderOptions, FilterNode } from './filter-translation.js';
export {
  chunkwiseOrder,
  filterableKeyPattern,
  joinFilterNodes,
  maxFilterPathDepth,
  negateFilterNode,
  orderedHex,
  setAtPath,
  stringOrderKey,
} from './filter-translation.js';
export type { ErrorMapper, Lifecycle, LifecycleOptions } from './lifecycle.js';
export { createLifecycle, defineComponent } from './lifecycle.js';
export type { PollUntilOptions } from './polling.js';
export { pollUntil } from './polling.js';
export type {
  BackendErrorContext,
  IdPage,
  PagedScanOptions,
  PagedScanResult,
  RestAnswer,
  RestJsonRequest,
  ScanPage,
  TokenCursor,
} from './rest.js';
export {
  decodeTokenCursor,
  encodeTokenCursor,
  filteredCursorAfter,
  pagedScan,
  pageOfIds,
  restJson,
  toBackendError,
} from './rest.js';
export {
  isRetryableNetworkError,
  isRetryableStatus,
  networkErrorCode,
  retryableNetworkCodes,
} from './retryable.js';
export type {
  LoadSettingOptions,
  OptionalSettingLoader,
  SettingsEnvironment,
} from './settings.js';
export {
  loadOptionalSetting,
  loadSetting,
  optionalSettingLoader,
  requiredSetting,
} from './settings.js';
export type { CollectionDimensions, DeleteSelection, QueryInput } from './store-guards.js';
export {
  assertCollectionDimensions,
  assertDeleteSelection,
  assertQueryInput,
  collectionDimensionMismatch,
  deleteNeedsSelectionMessage,
  requireQueryVector,
} from './store-guards.js';
