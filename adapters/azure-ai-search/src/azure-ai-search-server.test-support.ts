// A protocol model of the slice of Azure AI Search's REST API this adapter uses (index create /
// get / delete, docs/search.index, docs/search.post.search), written from the REST API reference
// and served by node:http on 127.0.0.1. It is NOT Azure AI Search: filters go through the OData
// model beside it, vector scores follow the documented cosine formula over an exact scan, and
// keyword scores are a plain BM25 over lowercase word tokens. It records every request.
import type { IncomingHttpHeaders } from 'node:http';
import {
  cosineSimilarity as cosine,
  type HttpModelResponse,
  ProtocolModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { evaluateODataFilter, parseODataFilter } from './azure-ai-search-model.test-support.js';

/** One request as the model received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
}

type Document = Record<string, unknown>;
interface Index {
  definition: Record<string, unknown>;
  documents: Map<string, Document>;
}

/** A running model: its URL, what it holds, what it was asked, and an optional override. */
export interface AzureAiSearchModel
  extends RecordingModel<RecordedRequest, { status: number; body?: unknown }> {
  indexes: Map<string, Index>;
}

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function compareKeys(left: string, right: string): number {
  const a = [...left].map((character) => character.codePointAt(0)!);
  const b = [...right].map((character) => character.codePointAt(0)!);
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    if (a[index] !== b[index]) return a[index]! - b[index]!;
  }
  return a.length - b.length;
}

function error(status: number, message: string) {
  return { status, body: { error: { code: String(status), message } } };
}

function search(index: Index, body: Record<string, unknown>) {
  const filter = typeof body.filter === 'string' ? parseODataFilter(body.filter) : undefined;
  const candidates = [...index.documents.values()].filter(
    (document) => !filter || evaluateODataFilter(filter, document),
  );
  let scored: { document: Document; score: number }[];
  const vectorQueries = body.vectorQueries as
    | { kind: string; vector: number[]; k: number; fields: string }[]
    | undefined;
  const text = typeof body.search === 'string' ? body.search : '*';
  if (vectorQueries?.length) {
    const [query] = vectorQueries;
    scored = candidates
      .map((document) => ({
        document,
        score: 1 / (1 + (1 - cosine(query!.vector, document.vector as number[]))),
      }))
      .sort((left, right) => right.score - left.score)
      .slice(0, query!.k);
  } else if (text !== '*') {
    const terms = [...new Set(words(text.replace(/\\(.)/g, '$1')))];
    const field = String(body.searchFields ?? 'keywordText');
    const tokenized = candidates.map((document) => words(String(document[field] ?? '')));
    const averageLength =
      tokenized.reduce((sum, tokens) => sum + tokens.length, 0) / Math.max(1, tokenized.length);
    const frequency = new Map(
      terms.map((term) => [term, tokenized.filter((tokens) => tokens.includes(term)).length]),
    );
    scored = candidates
      .map((document, position) => {
        const tokens = tokenized[position]!;
        let score = 0;
        for (const term of terms) {
          const count = tokens.filter((token) => token === term).length;
          if (count === 0) continue;
          const n = frequency.get(term)!;
          const idf = Math.log(1 + (candidates.length - n + 0.5) / (n + 0.5));
          score +=
            (idf * count * 2.2) / (count + 1.2 * (0.25 + (0.75 * tokens.length) / averageLength));
        }
        return { document, score };
      })
      .filter((match) => match.score > 0)
      .sort((left, right) => right.score - left.score);
  } else {
    scored = candidates.map((document) => ({ document, score: 1 }));
  }
  if (body.orderby === 'key asc') {
    scored.sort((left, right) =>
      compareKeys(String(left.document.key), String(right.document.key)),
    );
  } else if (body.orderby !== undefined) {
    throw new Error(`model: orderby ${String(body.orderby)} is not modelled`);
  }
  const total = scored.length;
  const skip = Number(body.skip ?? 0);
  const top = Number(body.top ?? 50);
  const select =
    typeof body.select === 'string' ? body.select.split(',').map((field) => field.trim()) : [];
  const value = scored.slice(skip, skip + top).map(({ document, score }) => ({
    '@search.score': score,
    ...Object.fromEntries(select.map((field) => [field, document[field] ?? null])),
  }));
  return { ...(body.count ? { '@odata.count': total } : {}), value };
}

function route(model: AzureAiSearchModel, request: RecordedRequest) {
  const match = /^\/indexes(?:\('([^']+)'\)|\/([^/]+))?(\/docs\/([a-z.]+))?$/.exec(request.path);
  if (!match) return error(404, `model: no route ${request.path}`);
  const name = match[1] ?? match[2];
  const operation = match[4];
  const body = (request.body ?? {}) as Record<string, unknown>;
  if (!name) {
    if (request.method !== 'POST') return error(405, 'model: method');
    const indexName = String(body.name);
    if (model.indexes.has(indexName)) return error(409, `index ${indexName} exists`);
    model.indexes.set(indexName, { definition: body, documents: new Map() });
    return { status: 201, body };
  }
  const index = model.indexes.get(name);
  if (!operation) {
    if (request.method === 'GET') {
      return index ? { status: 200, body: index.definition } : error(404, `no index ${name}`);
    }
    if (request.method === 'DELETE') {
      if (!index) return error(404, `no index ${name}`);
      model.indexes.delete(name);
      return { status: 204 };
    }
    return error(405, 'model: method');
  }
  if (!index) return error(404, `no index ${name}`);
  if (operation === 'search.index') {
    const results = (body.value as Document[]).map((action) => {
      const { '@search.action': kind, ...document } = action;
      const key = String(document.key);
      if (kind === 'upload') {
        const existed = index.documents.has(key);
        index.documents.set(key, document);
        return { key, status: true, errorMessage: null, statusCode: existed ? 200 : 201 };
      }
      if (kind === 'delete') {
        index.documents.delete(key);
        return { key, status: true, errorMessage: null, statusCode: 200 };
      }
      return { key, status: false, errorMessage: `model: ${String(kind)}`, statusCode: 400 };
    });
    return { status: 200, body: { value: results } };
  }
  if (operation === 'search.post.search') return { status: 200, body: search(index, body) };
  return error(404, `model: no operation ${operation}`);
}

/** Starts the model on 127.0.0.1 (a free port). */
export async function startAzureAiSearchModel(): Promise<AzureAiSearchModel> {
  const model: AzureAiSearchModel = {
    url: '',
    indexes: new Map(),
    requests: [],
    close: async () => {},
  };
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      method: incoming.method,
      path: decodeURIComponent(incoming.path),
      query: incoming.search,
      headers: incoming.headers,
      body: incoming.text ? JSON.parse(incoming.text) : undefined,
    }),
    route: (request) => route(model, request),
    success: (reply) => reply as HttpModelResponse,
    failure: (failed) => error(failed.status, failed.message),
    unexpected: (caught) => new ProtocolModelError(400, 'model', String(caught)),
    injected: (reply) => reply as HttpModelResponse,
  });
}
