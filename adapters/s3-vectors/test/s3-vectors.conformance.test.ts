import { describeVectorStore, providedServer } from '@engram/conformance';
import { createS3VectorsStore } from '../src/index.js';

// S3_VECTORS_BUCKET_NAME names an existing vector bucket (AWS credentials from the default
// chain); S3_VECTORS_ENDPOINT, when set, overrides the service endpoint.
const { url, ...server } = providedServer();

describeVectorStore({
  name: 's3-vectors',
  create: () => createS3VectorsStore({ ...(url ? { vectorBucketName: url } : {}) }),
  timeout: 120_000,
  ...server,
});
