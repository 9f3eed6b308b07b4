export { engramAdapter } from './neptune-analytics-adapter.js';
export {
  isRetryableNeptuneAnalyticsError,
  toNeptuneAnalyticsError,
} from './neptune-analytics-errors.js';
export type {
  NeptuneAnalyticsCondition,
  NeptuneAnalyticsWhere,
} from './neptune-analytics-filter.js';
export {
  neptuneAnalyticsFilterOperators,
  neptuneAnalyticsFilterProperties,
  renderNeptuneAnalyticsCondition,
  translateNeptuneAnalyticsFilter,
} from './neptune-analytics-filter.js';
export type { NeptuneAnalyticsStoreOptions } from './neptune-analytics-vector-store.js';
export {
  createNeptuneAnalyticsStore,
  neptuneAnalyticsCollectionLabel,
} from './neptune-analytics-vector-store.js';
