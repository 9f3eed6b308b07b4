// A protocol model of the slice of the Databricks Vector Search REST API this adapter uses
// (indexes: create, get, delete; upsert-data, delete-data, query, scan; the OAuth M2M token
// endpoint), written from the API reference and served by node:http on 127.0.0.1. It is NOT
// Databricks: filters go through the filter model beside it, queries scan exactly, and the index
// is ready at once. It records every request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  ProtocolModelError as ModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { databricksFilterSelects } from './databricks-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  text: string;
}

interface Index {
  definition: Record<string, unknown>;
  schema: Record<string, string>;
  dimension: number;
  rows: Map<string, Record<string, unknown>>;
}

/** A running model: its URL, token, indexes, requests, and an optional override. */
export interface DatabricksModel
  extends RecordingModel<RecordedRequest, { status: number; code: string }> {
  /** The bearer token it accepts (a PAT, or the token its OAuth endpoint hands out). */
  token: string;
  indexes: Map<string, Index>;
}

const prefix = '/api/2.0/vector-search/indexes';

function route(model: DatabricksModel, request: RecordedRequest): unknown {
  if (request.path === '/oidc/v1/token') {
    const expected = `Basic ${Buffer.from('client:secret').toString('base64')}`;
    if (
      request.headers.authorization !== expected ||
      !request.text.includes('client_credentials')
    ) {
      throw new ModelError(401, 'invalid_client', 'bad client');
    }
    return { access_token: model.token, token_type: 'Bearer', expires_in: 3600 };
  }
  if (request.headers.authorization !== `Bearer ${model.token}`) {
    throw new ModelError(401, 'UNAUTHENTICATED', 'bad token');
  }
  if (!request.path.startsWith(prefix)) throw new ModelError(404, 'ENDPOINT_NOT_FOUND', 'no route');
  const [name, action] = request.path
    .slice(prefix.length + 1)
    .split('/')
    .map(decodeURIComponent);
  if (request.method === 'POST' && !name) {
    const indexName = String(request.body.name);
    if (model.indexes.has(indexName)) {
      throw new ModelError(409, 'RESOURCE_ALREADY_EXISTS', `${indexName} exists`);
    }
    const spec = request.body.direct_access_index_spec as {
      embedding_vector_columns: { name: string; embedding_dimension: number }[];
      schema_json: string;
    };
    if (request.body.index_type !== 'DIRECT_ACCESS' || request.body.primary_key !== 'id') {
      throw new ModelError(400, 'INVALID_PARAMETER_VALUE', 'model: direct access with id only');
    }
    model.indexes.set(indexName, {
      definition: request.body,
      schema: JSON.parse(spec.schema_json) as Record<string, string>,
      dimension: spec.embedding_vector_columns[0]!.embedding_dimension,
      rows: new Map(),
    });
    return {};
  }
  const index = model.indexes.get(name ?? '');
  if (!index) throw new ModelError(404, 'RESOURCE_DOES_NOT_EXIST', `index ${name} not found`);
  if (!action && request.method === 'GET') {
    return { ...index.definition, status: { ready: true, indexed_row_count: index.rows.size } };
  }
  if (!action && request.method === 'DELETE') {
    model.indexes.delete(name!);
    return {};
  }
  if (action === 'upsert-data') {
    const rows = JSON.parse(String(request.body.inputs_json)) as Record<string, unknown>[];
    for (const row of rows) {
      for (const column of Object.keys(row)) {
        if (!(column in index.schema)) {
          throw new ModelError(400, 'INVALID_PARAMETER_VALUE', `unknown column ${column}`);
        }
      }
      if ((row.vector as number[]).length !== index.dimension) {
        throw new ModelError(400, 'INVALID_PARAMETER_VALUE', 'vector dimension mismatch');
      }
    }
    for (const row of rows) index.rows.set(String(row.id), row);
    return { status: 'SUCCESS', result: { success_row_count: rows.length } };
  }
  if (action === 'delete-data' && request.method === 'DELETE') {
    for (const key of request.query.getAll('primary_keys')) index.rows.delete(key);
    return { status: 'SUCCESS' };
  }
  if (action === 'query') {
    const vector = request.body.query_vector as number[];
    if (vector.length !== index.dimension) {
      throw new ModelError(400, 'INVALID_PARAMETER_VALUE', 'query vector dimension mismatch');
    }
    const filter = request.body.filters_json
      ? (JSON.parse(String(request.body.filters_json)) as Record<string, unknown>)
      : undefined;
    const columns = request.body.columns as string[];
    const ranked = [...index.rows.values()]
      .filter((row) => !filter || databricksFilterSelects(filter, row))
      .map((row) => {
        const distance = (row.vector as number[]).reduce(
          (sum: number, value, position) => sum + (value - vector[position]!) ** 2,
          0,
        );
        return { row, score: 1 / (1 + distance) };
      })
      .sort((left, right) => right.score - left.score)
      .slice(0, Number(request.body.num_results));
    return {
      manifest: {
        column_count: columns.length + 1,
        columns: [...columns, 'score'].map((column) => ({ name: column })),
      },
      result: {
        row_count: ranked.length,
        data_array: ranked.map(({ row, score }) => [
          ...columns.map((column) => row[column]),
          score,
        ]),
      },
    };
  }
  if (action === 'scan') {
    const after = request.body.last_primary_key as string | undefined;
    const rows = [...index.rows.values()]
      .sort((left, right) => (String(left.id) < String(right.id) ? -1 : 1))
      .filter((row) => after === undefined || String(row.id) > after)
      .slice(0, Number(request.body.num_results ?? 10));
    const typed = (value: unknown) =>
      typeof value === 'string'
        ? { string_value: value }
        : typeof value === 'number'
          ? { number_value: value }
          : typeof value === 'boolean'
            ? { bool_value: value }
            : Array.isArray(value)
              ? { list_value: { values: value.map((item) => ({ number_value: item })) } }
              : { null_value: 'NULL_VALUE' };
    return {
      ...(rows.length > 0 ? { last_primary_key: String(rows.at(-1)!.id) } : {}),
      data: rows.map((row) => ({
        fields: Object.entries(row).map(([key, value]) => ({ key, value: typed(value) })),
      })),
    };
  }
  throw new ModelError(404, 'ENDPOINT_NOT_FOUND', `model: ${request.method} ${request.path}`);
}

/** Starts the model on 127.0.0.1 (a free port). */
export async function startDatabricksModel(): Promise<DatabricksModel> {
  const model: DatabricksModel = {
    url: '',
    token: 'dapi-model',
    indexes: new Map(),
    requests: [],
    close: async () => {},
  };
  const failure = (error: ModelError) => ({
    status: error.status,
    body: { error_code: error.code, message: error.message },
  });
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({ ...incoming, query: incoming.search }),
    route: (request) => route(model, request),
    failure,
    unexpected: (caught) => new ModelError(400, 'INVALID_PARAMETER_VALUE', String(caught)),
    injected: ({ status, code }) => failure(new ModelError(status, code, `model: ${code}`)),
  });
}
