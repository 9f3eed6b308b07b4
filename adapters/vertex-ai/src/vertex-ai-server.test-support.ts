// A protocol model of the slice of the Vertex AI REST API this adapter uses (indexes.get,
// indexes.upsertDatapoints, indexes.removeDatapoints, indexEndpoints.findNeighbors,
// indexEndpoints.readIndexDatapoints: JSON over HTTP, errors as google.rpc.Status), written
// from the API reference and served by node:http on 127.0.0.1. It is NOT Vertex AI: restricts go
// through the filter model beside it, neighbours are found by an exact scan, and credentials
// are not checked. It records every request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cosineSimilarity } from '@engram/core';
import type { VertexAiFilter } from './vertex-ai-filter.js';
import {
  type VertexAiDatapointRestricts,
  vertexAiFilterSelects,
} from './vertex-ai-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

interface StoredDatapoint extends VertexAiDatapointRestricts {
  datapointId: string;
  featureVector: number[];
  embeddingMetadata?: Record<string, unknown>;
}

/** A running model of one index deployed to one endpoint. */
export interface VertexAiModel {
  /** Port on 127.0.0.1. */
  port: number;
  /** Index metadata as `indexes.get` returns it. */
  index: Record<string, unknown>;
  datapoints: Map<string, StoredDatapoint>;
  requests: RecordedRequest[];
  /** Answers a request before the model does, e.g. to inject a failure. */
  intercept?: (request: RecordedRequest) => { status: number; code: string } | undefined;
  close: () => Promise<void>;
}

/** The resource names the model serves. */
export const vertexAiModelNames = {
  project: 'model-project',
  location: 'europe-west4',
  indexId: 'memories',
  indexEndpointId: 'endpoint',
  deployedIndexId: 'deployed_memories',
};

const prefix = `/v1/projects/${vertexAiModelNames.project}/locations/${vertexAiModelNames.location}`;
const indexPath = `${prefix}/indexes/${vertexAiModelNames.indexId}`;
const endpointPath = `${prefix}/indexEndpoints/${vertexAiModelNames.indexEndpointId}`;

class ModelError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const numericOperators = [
  undefined,
  'LESS',
  'LESS_EQUAL',
  'EQUAL',
  'GREATER_EQUAL',
  'GREATER',
  'NOT_EQUAL',
] as const;

function route(model: VertexAiModel, { method, path, body }: RecordedRequest): unknown {
  const deployed = () => {
    if (body.deployedIndexId !== vertexAiModelNames.deployedIndexId) {
      throw new ModelError(404, 'NOT_FOUND', `deployed index ${String(body.deployedIndexId)}`);
    }
  };
  if (method === 'GET' && path === indexPath) return model.index;
  if (method === 'POST' && path === `${indexPath}:upsertDatapoints`) {
    for (const datapoint of body.datapoints as StoredDatapoint[]) {
      model.datapoints.set(datapoint.datapointId, datapoint);
    }
    return {};
  }
  if (method === 'POST' && path === `${indexPath}:removeDatapoints`) {
    for (const id of body.datapointIds as string[]) model.datapoints.delete(id);
    return {};
  }
  if (method === 'POST' && path === `${endpointPath}:readIndexDatapoints`) {
    deployed();
    return {
      datapoints: (body.ids as string[]).flatMap((id) => {
        const found = model.datapoints.get(id);
        return found ? [found] : [];
      }),
    };
  }
  if (method === 'POST' && path === `${endpointPath}:findNeighbors`) {
    deployed();
    const queries = body.queries as {
      datapoint: StoredDatapoint & VertexAiFilter;
      neighborCount: number;
    }[];
    for (const { datapoint } of queries) {
      for (const restrict of datapoint.numericRestricts ?? []) {
        // proto3 JSON allows an enum by name or by number
        if (typeof restrict.op === 'number') restrict.op = numericOperators[restrict.op];
      }
    }
    return {
      nearestNeighbors: queries.map(({ datapoint: query, neighborCount }) => ({
        id: query.datapointId,
        neighbors: [...model.datapoints.values()]
          .filter((stored) =>
            vertexAiFilterSelects(
              { restricts: query.restricts ?? [], numericRestricts: query.numericRestricts ?? [] },
              stored,
            ),
          )
          .map((stored) => ({
            stored,
            // COSINE_DISTANCE: 1 - cosine similarity
            distance: 1 - cosineSimilarity(stored.featureVector, query.featureVector),
          }))
          .sort((left, right) => left.distance - right.distance)
          .slice(0, neighborCount)
          .map(({ stored, distance }) => ({
            datapoint: body.returnFullDatapoint ? stored : { datapointId: stored.datapointId },
            distance,
          })),
      })),
    };
  }
  throw new ModelError(404, 'NOT_FOUND', `no route ${method} ${path}`);
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Starts the model on 127.0.0.1 with an empty cosine index of `dimensions`. */
export async function startVertexAiModel(dimensions = 4): Promise<VertexAiModel> {
  const server = createServer();
  const model: VertexAiModel = {
    port: 0,
    index: {
      name: indexPath.slice(4),
      indexUpdateMethod: 'STREAM_UPDATE',
      metadata: { config: { dimensions, distanceMeasureType: 'COSINE_DISTANCE' } },
    },
    datapoints: new Map(),
    requests: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', 'http://model');
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: decodeURIComponent(url.pathname),
        headers: request.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      model.requests.push(recorded);
      try {
        const injected = model.intercept?.(recorded);
        if (injected) throw new ModelError(injected.status, injected.code, 'injected');
        send(response, 200, route(model, recorded));
      } catch (caught) {
        const error =
          caught instanceof ModelError ? caught : new ModelError(500, 'INTERNAL', String(caught));
        send(response, error.status, {
          error: { code: error.status, message: error.message, status: error.code },
        });
      }
    });
  });
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  model.port = (server.address() as AddressInfo).port;
  return model;
}
