export { baiduConformanceFilterFields, engramAdapter } from './baidu-adapter.js';
export { BaiduResponseError, isRetryableBaiduError, toBaiduError } from './baidu-errors.js';
export { baiduFilterOperators, translateBaiduFilter } from './baidu-filter.js';
export type { BaiduVectorStoreOptions } from './baidu-vector-store.js';
export { createBaiduVectorStore } from './baidu-vector-store.js';
