// The shared conformance suite run against the protocol model of the S3 Vectors REST API on
// 127.0.0.1 (s3-vectors-server.test-support.ts), through the official client. This checks the
// adapter's own logic end to end (tokens, paging, filter keys, scores); it is NOT a run against
// S3 Vectors, which test/s3-vectors.conformance.test.ts does when S3_VECTORS_BUCKET_NAME is set.
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { describeVectorStore } from '@engram/conformance';
import { afterAll, beforeAll } from 'vitest';
import { type S3VectorsModel, startS3VectorsModel } from './s3-vectors-server.test-support.js';
import { createS3VectorsStore } from './s3-vectors-vector-store.js';

let model: S3VectorsModel | undefined;
beforeAll(async () => {
  model = await startS3VectorsModel();
  // Small pages, so that list, count and filtered enumeration follow nextToken.
  model.pageSize = 97;
});
afterAll(() => model?.close());

describeVectorStore({
  name: 's3-vectors (protocol model of the REST API, not a real service)',
  server: 'none',
  timeout: 120_000,
  create: () =>
    createS3VectorsStore({
      vectorBucketName: 'model-bucket',
      client: new S3VectorsClient({
        endpoint: model!.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'model', secretAccessKey: 'model' },
        maxAttempts: 1,
      }),
    }),
});
