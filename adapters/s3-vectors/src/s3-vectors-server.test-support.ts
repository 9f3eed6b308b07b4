// A protocol model of the slice of the Amazon S3 Vectors REST API this adapter uses (CreateIndex,
// GetIndex, DeleteIndex, PutVectors, GetVectors, DeleteVectors, ListVectors, QueryVectors: JSON
// POSTs, errors named by `x-amzn-errortype`), written from the API reference and served by
// node:http on 127.0.0.1. It is NOT S3 Vectors: filters go through the filter model beside it,
// queries scan exactly, and signatures are not checked. It records every request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { s3VectorsFilterSelects } from './s3-vectors-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  operation: string;
  headers: IncomingMessage['headers'];
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
export interface S3VectorsModel {
  url: string;
  indexes: Map<string, Index>;
  requests: RecordedRequest[];
  /** Page size of ListVectors and QueryVectors answers, to exercise tokens. */
  pageSize: number;
  /** Answers a request before the model does, e.g. to inject a failure. */
  intercept?: (request: RecordedRequest) => { status: number; type: string } | undefined;
  close: () => Promise<void>;
}

class ModelError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function cosine(left: number[], right: number[]): number {
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    a += left[index]! ** 2;
    b += right[index]! ** 2;
  }
  return a === 0 || b === 0 ? 0 : dot / Math.sqrt(a * b);
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
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (part: Buffer) => chunks.push(part));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        operation: new URL(incoming.url ?? '/', 'http://model').pathname.split('/').at(-1) ?? '',
        headers: incoming.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      model.requests.push(request);
      try {
        const injected = model.intercept?.(request);
        if (injected)
          throw new ModelError(injected.status, injected.type, `model: ${injected.type}`);
        const body = route(model, request);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      } catch (caught) {
        const error =
          caught instanceof ModelError
            ? caught
            : new ModelError(400, 'ValidationException', String(caught));
        response.writeHead(error.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': error.type,
        });
        response.end(JSON.stringify({ message: error.message }));
      }
    });
  });
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  model.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  model.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return model;
}
