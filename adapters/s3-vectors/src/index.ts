export { engramAdapter } from './s3-vectors-adapter.js';
export { isRetryableS3VectorsError, toS3VectorsError } from './s3-vectors-errors.js';
export type { S3VectorsFilter, S3VectorsFilterTranslation } from './s3-vectors-filter.js';
export {
  s3VectorsFilterFields,
  s3VectorsFilterOperators,
  translateS3VectorsFilter,
} from './s3-vectors-filter.js';
export type { S3VectorsStoreOptions } from './s3-vectors-vector-store.js';
export { createS3VectorsStore, defaultS3VectorsIndexName } from './s3-vectors-vector-store.js';
