// A protocol model of the slice of the Vertex AI REST API this adapter uses (indexes.get,
// indexes.upsertDatapoints, indexes.removeDatapoints, indexEndpoints.findNeighbors,
// indexEndpoints.readIndexDatapoints: JSON over HTTP, errors as google.rpc.Status), written
// from the API reference and served by node:http on 127.0.0.1. It is NOT Vertex AI: restricts go
// through the filter model beside it, neighbours are found by an exact scan, and credentials
// are not checked. It records every request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  ProtocolModelError as ModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
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
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface StoredDatapoint extends VertexAiDatapointRestricts {
  datapointId: string;
  featureVector: number[];
  embeddingMetadata?: Record<string, unknown>;
}

/** A running model of one index deployed to one endpoint. */
export interface VertexAiModel
  extends RecordingModel<RecordedRequest, { status: number; code: string }> {
  /** Port on 127.0.0.1. */
  port: number;
  /** Index metadata as `indexes.get` returns it. */
  index: Record<string, unknown>;
  datapoints: Map<string, StoredDatapoint>;
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

/** Starts the model on 127.0.0.1 with an empty cosine index of `dimensions`. */
export async function startVertexAiModel(dimensions = 4): Promise<VertexAiModel> {
  const model: VertexAiModel = {
    url: '',
    port: 0,
    index: {
      name: indexPath.slice(4),
      indexUpdateMethod: 'STREAM_UPDATE',
      metadata: { config: { dimensions, distanceMeasureType: 'COSINE_DISTANCE' } },
    },
    datapoints: new Map(),
    requests: [],
    close: async () => {},
  };
  const failure = (error: ModelError) => ({
    status: error.status,
    body: { error: { code: error.status, message: error.message, status: error.code } },
  });
  await startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      method: incoming.method,
      path: decodeURIComponent(incoming.path),
      headers: incoming.headers,
      body: incoming.text ? (JSON.parse(incoming.text) as Record<string, unknown>) : {},
    }),
    route: (request) => route(model, request),
    failure,
    unexpected: (caught) => new ModelError(500, 'INTERNAL', String(caught)),
    injected: ({ status, code }) => failure(new ModelError(status, code, 'injected')),
  });
  model.port = Number(new URL(model.url).port);
  return model;
}
