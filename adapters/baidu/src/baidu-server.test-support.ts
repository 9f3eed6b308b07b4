// A protocol model of the slice of the Baidu VectorDB (Mochow) HTTP API this adapter uses
// (`/v1/table?create|desc|drop`, `/v1/row?upsert|search|select|delete`, errors as `{ code, msg }`),
// written from the API reference and the official Python SDK and served by node:http on
// 127.0.0.1. It is NOT Mochow: filters go through the expression model beside it, searches scan
// exactly, tables are ready at once. It records every request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  cosineSimilarity,
  ProtocolModelError as ModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { parseBaiduExpression } from './baidu-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  action: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface Field {
  fieldName: string;
  fieldType: string;
  primaryKey?: boolean;
  dimension?: number;
}

interface Table {
  definition: Record<string, unknown>;
  fields: Field[];
  rows: Map<string, Record<string, unknown>>;
}

/** A running model: its URL, credentials, tables, requests, and an optional override. */
export interface BaiduModel
  extends RecordingModel<RecordedRequest, { status: number; code: number }> {
  apiKey: string;
  database: string;
  tables: Map<string, Table>;
  /** Page size of select answers, to exercise markers. */
  pageSize: number;
}

function route(model: BaiduModel, request: RecordedRequest): unknown {
  const { body } = request;
  if (request.method !== 'POST') throw new ModelError(405, 1, 'POST only');
  if (request.headers.authorization !== `Bearer account=root&api_key=${model.apiKey}`) {
    throw new ModelError(401, 2, 'authentication failed');
  }
  if (body.database !== model.database) throw new ModelError(404, 50, 'database not exist');
  const name = String(body.table);
  const table = model.tables.get(name);
  const need = () => {
    if (!table) throw new ModelError(404, 69, `table ${name} not exist`);
    return table;
  };
  const project = (row: Record<string, unknown>) =>
    Object.fromEntries(
      [
        ...((body.projections as string[] | undefined) ?? Object.keys(row)),
        ...(body.retrieveVector ? ['vector'] : []),
      ].map((field) => [field, row[field]]),
    );
  const selected = (filter: unknown) => {
    const expression = typeof filter === 'string' ? parseBaiduExpression(filter) : undefined;
    return [...need().rows.values()]
      .filter((row) => !expression || expression(row))
      .sort((left, right) => (String(left.id) < String(right.id) ? -1 : 1));
  };
  switch (`${request.path}?${request.action}`) {
    case '/v1/table?create': {
      if (table) throw new ModelError(400, 70, `table ${name} already exist`);
      const schema = body.schema as { fields: Field[] };
      model.tables.set(name, { definition: body, fields: schema.fields, rows: new Map() });
      return {};
    }
    case '/v1/table?desc':
      return {
        table: {
          database: model.database,
          table: name,
          state: 'NORMAL',
          schema: need().definition.schema,
        },
      };
    case '/v1/table?drop':
      need();
      model.tables.delete(name);
      return {};
    case '/v1/row?upsert': {
      const rows = body.rows as Record<string, unknown>[];
      const fields = need().fields;
      for (const row of rows) {
        for (const field of fields) {
          const value = row[field.fieldName];
          if (value === undefined || value === null) {
            throw new ModelError(400, 1, `field ${field.fieldName} is not null`);
          }
          if (
            field.fieldType === 'FLOAT_VECTOR' &&
            (value as number[]).length !== field.dimension
          ) {
            throw new ModelError(400, 1, 'vector dimension mismatch');
          }
          if (field.fieldType === 'STRING' && typeof value !== 'string') {
            throw new ModelError(400, 1, `field ${field.fieldName} must be a string`);
          }
          if (field.fieldType === 'DOUBLE' && typeof value !== 'number') {
            throw new ModelError(400, 1, `field ${field.fieldName} must be a number`);
          }
        }
        for (const key of Object.keys(row)) {
          if (!fields.some((field) => field.fieldName === key)) {
            throw new ModelError(400, 1, `unknown field ${key}`);
          }
        }
      }
      for (const row of rows) need().rows.set(String(row.id), row);
      return { affectedCount: rows.length };
    }
    case '/v1/row?search': {
      const anns = body.anns as {
        vectorFloats: number[];
        params: { limit: number };
        filter?: string;
      };
      return {
        rows: selected(anns.filter)
          .map((row) => ({
            row,
            score: cosineSimilarity(anns.vectorFloats, row.vector as number[]),
          }))
          .sort((left, right) => right.score - left.score)
          .slice(0, anns.params.limit)
          .map(({ row, score }) => ({ row: project(row), score, distance: 1 - score })),
      };
    }
    case '/v1/row?select': {
      const after = (body.marker as { id?: string } | undefined)?.id;
      const rows = selected(body.filter).filter(
        (row) => after === undefined || String(row.id) >= after,
      );
      const size = Math.min(Number(body.limit ?? 10), model.pageSize);
      const page = rows.slice(0, size);
      const next = rows[size];
      return {
        rows: page.map(project),
        isTruncated: next !== undefined,
        ...(next ? { nextMarker: { id: next.id } } : {}),
      };
    }
    case '/v1/row?delete':
      for (const row of selected(body.filter)) need().rows.delete(String(row.id));
      return {};
    default:
      throw new ModelError(404, 1, `model: ${request.path}?${request.action}`);
  }
}

/** Starts the model on 127.0.0.1 (a free port). */
export async function startBaiduModel(): Promise<BaiduModel> {
  const model: BaiduModel = {
    url: '',
    apiKey: 'model-key',
    database: 'engram',
    tables: new Map(),
    requests: [],
    pageSize: 1000,
    close: async () => {},
  };
  const failure = (error: ModelError) => ({
    status: error.status,
    body: { code: error.code, msg: error.message },
  });
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      method: incoming.method,
      path: incoming.path,
      action: incoming.search.toString().replace(/=$/, ''),
      headers: incoming.headers,
      body: incoming.body,
    }),
    route: (request) => ({ code: 0, msg: 'Success', ...(route(model, request) as object) }),
    failure,
    unexpected: (caught) => new ModelError(400, 1, String(caught)),
    injected: ({ status, code }) => failure(new ModelError(status, code, 'model: injected')),
  });
}
