// A protocol model of the slice of the Amazon S3 Vectors REST API this adapter uses (CreateIndex,
// GetIndex, DeleteIndex, PutVectors, GetVectors, DeleteVectors, ListVectors, QueryVectors: JSON
// POSTs, errors named by `x-amzn-errortype`), written from the API reference and served by
// node:http on 127.0.0.1. It is NOT S3 Vectors: filters go through the filter model beside it,
// queries scan exactly, and signatures are not checked. It records every request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  awsErrorProtocol,
  cosineSimilarity as cosine,
  ProtocolModelError as ModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { s3VectorsFilterSelects } from './s3-vectors-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  operation: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface StoredVector {
  key: string;
  data: { float32: number[] };
  metadata?: Record<string, unknown>;
}

interface Index {
  definition: Record<string, unknown>;
  vectors: Map<string, StoredVector>;
}

/** A running model: its URL, its indexes, what it was asked, and an optional override. */
export interface S3VectorsModel
  extends RecordingModel<RecordedRequest, { status: number; type: string }> {
  indexes: Map<string, Index>;
  /** Page size of ListVectors and QueryVectors answers, to exercise tokens. */
  pageSize: number;
}

function route(model: S3VectorsModel, { operation, body }: RecordedRequest): unknown {
  const name = `${String(body.vectorBucketName)}/${String(body.indexName)}`;
  const index = model.indexes.get(name);
  const need = () => {
    if (!index) throw new ModelError(404, 'NotFoundException', `index ${name} not found`);
    return index;
  };
  const returned = (stored: StoredVector) => ({
    key: stored.key,
    ...(body.returnData ? { data: stored.data } : {}),
    ...(body.returnMetadata && stored.metadata ? { metadata: stored.metadata } : {}),
  });
  const page = <T>(items: T[]) => {
    const start = Number(body.nextToken ?? 0);
    const size = Math.min(model.pageSize, Number(body.maxResults ?? body.topK ?? model.pageSize));
    const end = start + size;
    return {
      items: items.slice(start, end),
      nextToken: end < items.length ? String(end) : undefined,
    };
  };
  switch (operation) {
    case 'CreateIndex':
      if (index) throw new ModelError(409, 'ConflictException', `index ${name} exists`);
      model.indexes.set(name, { definition: body, vectors: new Map() });
      return {};
    case 'GetIndex':
      return { index: { ...need().definition, indexArn: `arn:model:${name}`, creationTime: 0 } };
    case 'DeleteIndex':
      need();
      model.indexes.delete(name);
      return {};
    case 'PutVectors':
      for (const vector of body.vectors as StoredVector[]) {
        if (vector.data.float32.length !== Number(need().definition.dimension)) {
          throw new ModelError(400, 'ValidationException', 'dimension mismatch');
        }
        need().vectors.set(vector.key, vector);
      }
      return {};
    case 'GetVectors':
      return {
        vectors: (body.keys as string[]).flatMap((key) => {
          const stored = need().vectors.get(key);
          return stored ? [returned(stored)] : [];
        }),
      };
    case 'DeleteVectors':
      for (const key of body.keys as string[]) need().vectors.delete(key);
      return {};
    case 'ListVectors': {
      const { items, nextToken } = page(
        [...need().vectors.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
      );
      return { vectors: items.map(returned), ...(nextToken ? { nextToken } : {}) };
    }
    case 'QueryVectors': {
      const query = (body.queryVector as { float32: number[] }).float32;
      const filter = body.filter as Record<string, unknown> | undefined;
      const ranked = [...need().vectors.values()]
        .filter(
          (stored) =>
            !filter ||
            s3VectorsFilterSelects(filter, stored.metadata ?? {}, { negationsMatchMissing: false }),
        )
        .map((stored) => ({ stored, distance: 1 - cosine(query, stored.data.float32) }))
        .sort((left, right) => left.distance - right.distance);
      const { items, nextToken } = page(ranked);
      return {
        vectors: items.map(({ stored, distance }) => ({
          key: stored.key,
          ...(body.returnMetadata && stored.metadata ? { metadata: stored.metadata } : {}),
          ...(body.returnDistance ? { distance } : {}),
        })),
        distanceMetric: 'cosine',
        ...(nextToken ? { nextToken } : {}),
      };
    }
    default:
      throw new ModelError(404, 'UnknownOperationException', `model: no operation ${operation}`);
  }
}

/** Starts the model on 127.0.0.1 (a free port). */
export async function startS3VectorsModel(): Promise<S3VectorsModel> {
  const model: S3VectorsModel = {
    url: '',
    indexes: new Map(),
    requests: [],
    pageSize: 1000,
    close: async () => {},
  };
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      operation: incoming.path.split('/').at(-1) ?? '',
      headers: incoming.headers,
      body: incoming.text ? (JSON.parse(incoming.text) as Record<string, unknown>) : {},
    }),
    route: (request) => route(model, request),
    ...awsErrorProtocol,
  });
}
