// A protocol model of the slice of Upstash Vector's REST API this adapter uses (upsert, query,
// fetch, delete, range, info, list-namespaces, delete-namespace, reset; `/<command>/<namespace>`
// paths, `{ "result": ... }` bodies), written from the REST API reference and served by
// node:http on 127.0.0.1. It is NOT Upstash: filters go through the filter model beside it,
// queries scan exactly, and the index has one dimension and the COSINE similarity.
import type { IncomingHttpHeaders } from 'node:http';
import {
  cosineSimilarity as cosine,
  type HttpModelResponse,
  ProtocolModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { upstashFilterSelects } from './upstash-vector-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface StoredVector {
  id: string;
  vector: number[];
  metadata?: Record<string, unknown>;
}

/** A running model: its URL, its namespaces, what it was asked, and an optional override. */
export interface UpstashVectorModel extends RecordingModel<RecordedRequest, HttpModelResponse> {
  dimension: number;
  namespaces: Map<string, Map<string, StoredVector>>;
}

function shape(stored: StoredVector, body: Record<string, unknown>) {
  return {
    id: stored.id,
    ...(body.includeVectors ? { vector: stored.vector } : {}),
    ...(body.includeMetadata && stored.metadata ? { metadata: stored.metadata } : {}),
  };
}

function route(model: UpstashVectorModel, request: RecordedRequest): unknown {
  const [command = '', namespace = ''] = request.path.slice(1).split('/');
  const body = (request.body ?? {}) as Record<string, unknown>;
  const space = () => {
    let vectors = model.namespaces.get(namespace);
    if (!vectors) {
      vectors = new Map();
      model.namespaces.set(namespace, vectors);
    }
    return vectors;
  };
  const selects = (stored: StoredVector) =>
    typeof body.filter !== 'string' ||
    upstashFilterSelects(body.filter, stored.metadata ?? {}, { missingMatches: false });
  switch (command) {
    case 'upsert': {
      for (const item of request.body as StoredVector[]) {
        if (item.vector.length !== model.dimension) {
          throw new Error(
            `Invalid vector dimension: ${item.vector.length}, expected: ${model.dimension}`,
          );
        }
        space().set(String(item.id), { ...item, id: String(item.id) });
      }
      return 'Success';
    }
    case 'query': {
      const vector = body.vector as number[];
      return [...space().values()]
        .filter(selects)
        .map((stored) => ({ stored, score: (1 + cosine(vector, stored.vector)) / 2 }))
        .sort((left, right) => right.score - left.score)
        .slice(0, Number(body.topK))
        .map(({ stored, score }) => ({ ...shape(stored, body), score }));
    }
    case 'fetch':
      return (body.ids as string[]).map((id) => {
        const stored = space().get(id);
        return stored ? shape(stored, body) : null;
      });
    case 'delete': {
      const vectors = space();
      const doomed = Array.isArray(body.ids)
        ? (body.ids as string[]).filter((id) => vectors.has(id))
        : [...vectors.values()].filter(selects).map((stored) => stored.id);
      for (const id of doomed) vectors.delete(id);
      return { deleted: doomed.length };
    }
    case 'range': {
      const ids = [...space().keys()].sort();
      const start = Number(body.cursor || 0);
      const page = ids.slice(start, start + Number(body.limit));
      const end = start + page.length;
      return {
        nextCursor: end < ids.length ? String(end) : '',
        vectors: page.map((id) => shape(space().get(id)!, body)),
      };
    }
    case 'info':
      return {
        vectorCount: [...model.namespaces.values()].reduce((sum, vectors) => sum + vectors.size, 0),
        pendingVectorCount: 0,
        indexSize: 0,
        dimension: model.dimension,
        similarityFunction: 'COSINE',
        namespaces: Object.fromEntries(
          [...model.namespaces].map(([name, vectors]) => [
            name,
            { vectorCount: vectors.size, pendingVectorCount: 0 },
          ]),
        ),
      };
    case 'list-namespaces':
      return [...model.namespaces.keys()];
    case 'delete-namespace':
      if (!model.namespaces.delete(namespace))
        throw new Error(`Namespace ${namespace} does not exist`);
      return 'Success';
    case 'reset':
      model.namespaces.delete(namespace);
      return 'Success';
    default:
      throw new Error(`model: no command ${command}`);
  }
}

/** Starts the model on 127.0.0.1 (a free port) with an index of `dimension`. */
export async function startUpstashVectorModel(dimension: number): Promise<UpstashVectorModel> {
  const model: UpstashVectorModel = {
    url: '',
    dimension,
    namespaces: new Map(),
    requests: [],
    close: async () => {},
  };
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      path: incoming.path,
      headers: incoming.headers,
      body: incoming.text ? JSON.parse(incoming.text) : undefined,
    }),
    route: (request) => route(model, request),
    success: (result) => ({ status: 200, body: { result } }),
    failure: (error) => ({
      status: error.status,
      body: { error: error.message, status: error.status },
    }),
    unexpected: (caught) =>
      new ProtocolModelError(
        400,
        'error',
        caught instanceof Error ? caught.message : String(caught),
      ),
    injected: (answer) => answer,
  });
}
