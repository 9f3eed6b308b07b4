// A protocol model of the slice of the Amazon Neptune Analytics API this adapter uses (GetGraph,
// and ExecuteQuery with the openCypher statements the adapter sends, errors named by
// `x-amzn-errortype`), written from the API and algorithm references and served by node:http on
// 127.0.0.1. It is NOT Neptune Analytics: it knows only the adapter's statement shapes (anything
// else is a 400), conditions go through the model beside it, and signatures are not checked.
import type { IncomingHttpHeaders } from 'node:http';
import {
  awsErrorProtocol,
  cosineSimilarity,
  ProtocolModelError as ModelError,
  type RecordingModel,
  startRecordingModel,
} from '@engram/adapter-kit/testing';
import { parseModelCondition } from './neptune-analytics-model.test-support.js';

/** One ExecuteQuery or GetGraph request as the model received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

interface GraphNode {
  labels: Set<string>;
  properties: Record<string, unknown>;
  embedding?: number[];
}

/** A running model: its URL, its nodes, what it was asked, and an optional override. */
export interface NeptuneAnalyticsModel
  extends RecordingModel<RecordedRequest, { status: number; type: string }> {
  graphIdentifier: string;
  /** The dimension of the graph's vector index. */
  dimension: number;
  nodes: Map<string, GraphNode>;
}

const label = '`((?:[^`]|``)+)`';
const statements = {
  readMarker:
    /^MATCH \(c:`EngramCollection`\) WHERE id\(c\) = \$marker RETURN c\.dimensions AS dimensions$/,
  mergeMarker:
    /^MERGE \(c:`EngramCollection` \{`~id`: \$marker\}\) ON CREATE SET c\.dimensions = \$dimensions RETURN c\.dimensions AS dimensions$/,
  deleteMarker: /^MATCH \(c:`EngramCollection`\) WHERE id\(c\) = \$marker DELETE c$/,
  upsert: new RegExp(
    `^UNWIND \\$rows AS row MERGE \\(n:${label} \\{\`~id\`: row\\.nodeId\\}\\) SET n = row\\.properties WITH n, row CALL neptune\\.algo\\.vectors\\.upsert\\(n, row\\.embedding\\) YIELD success RETURN count\\(success\\) AS upserted$`,
  ),
  query: new RegExp(
    `^MATCH \\(n:${label}\\) WHERE (.+) CALL neptune\\.algo\\.vectors\\.distance\\.byEmbedding\\(n, \\{embedding: \\$embedding, metric: "CosineSimilarity"\\}\\) YIELD distance (CALL neptune\\.algo\\.vectors\\.get\\(n\\) YIELD embedding )?RETURN n\\.engram_record AS record, distance AS score(?:, embedding)? ORDER BY score DESC, n\\.engram_order LIMIT \\$topK$`,
  ),
  read: new RegExp(
    `^MATCH \\(n:${label}\\) WHERE (.+?)( WITH n ORDER BY n\\.engram_order LIMIT \\$limit)? (CALL neptune\\.algo\\.vectors\\.get\\(n\\) YIELD embedding RETURN n\\.engram_record AS record, embedding|RETURN n\\.engram_record AS record)$`,
  ),
  count: new RegExp(`^MATCH \\(n:${label}\\) WHERE (.+) RETURN count\\(n\\) AS count$`),
  delete: new RegExp(
    `^MATCH \\(n:${label}\\) WHERE (.+) DETACH DELETE n RETURN count\\(\\*\\) AS deleted$`,
  ),
  drop: new RegExp(`^MATCH \\(n:${label}\\) DETACH DELETE n$`),
};

function execute(model: NeptuneAnalyticsModel, query: string, parameters: Record<string, unknown>) {
  const labelled = (name: string) =>
    [...model.nodes.entries()].filter(([, node]) => node.labels.has(name.replaceAll('``', '`')));
  const selected = (name: string, where: string) => {
    const condition = parseModelCondition(where, parameters);
    return labelled(name).filter(([, node]) => condition(node.properties) === true);
  };
  const [kind, match] = Object.entries(statements)
    .map(([name, pattern]) => [name, query.match(pattern)] as const)
    .find(([, found]) => found) ?? ['unknown', null];
  if (!match) throw new ModelError(400, 'ValidationException', `model: unknown statement ${query}`);
  if (kind === 'readMarker' || kind === 'mergeMarker') {
    const id = String(parameters.marker);
    if (kind === 'mergeMarker' && !model.nodes.has(id)) {
      model.nodes.set(id, {
        labels: new Set(['EngramCollection']),
        properties: { dimensions: parameters.dimensions },
      });
    }
    const marker = model.nodes.get(id);
    return marker ? [{ dimensions: marker.properties.dimensions }] : [];
  }
  if (kind === 'deleteMarker') {
    model.nodes.delete(String(parameters.marker));
    return [];
  }
  if (kind === 'upsert') {
    const rows = parameters.rows as {
      nodeId: string;
      properties: Record<string, unknown>;
      embedding: number[];
    }[];
    for (const row of rows) {
      if (row.embedding.length !== model.dimension) {
        throw new ModelError(400, 'ValidationException', 'embedding dimension mismatch');
      }
      for (const value of Object.values(row.properties)) {
        if (value === null || typeof value === 'object') {
          throw new ModelError(400, 'ValidationException', 'properties must be scalars');
        }
      }
    }
    for (const row of rows) {
      const node = model.nodes.get(row.nodeId) ?? { labels: new Set<string>(), properties: {} };
      node.labels.add(match[1]!.replaceAll('``', '`'));
      node.properties = { ...row.properties };
      node.embedding = [...row.embedding];
      model.nodes.set(row.nodeId, node);
    }
    return [{ upserted: rows.length }];
  }
  if (kind === 'query') {
    const embedding = parameters.embedding as number[];
    if (embedding.length !== model.dimension) {
      throw new ModelError(400, 'ValidationException', 'embedding dimension mismatch');
    }
    return selected(match[1]!, match[2]!)
      .map(([, node]) => ({ node, score: cosineSimilarity(embedding, node.embedding ?? []) }))
      .sort(
        (left, right) =>
          right.score - left.score ||
          String(left.node.properties.engram_order).localeCompare(
            String(right.node.properties.engram_order),
          ),
      )
      .slice(0, Number(parameters.topK))
      .map(({ node, score }) => ({
        record: node.properties.engram_record,
        score,
        ...(match[3] ? { embedding: node.embedding } : {}),
      }));
  }
  if (kind === 'count') {
    return [{ count: selected(match[1]!, match[2]!).length }];
  }
  if (kind === 'delete') {
    const doomed = selected(match[1]!, match[2]!);
    for (const [id] of doomed) model.nodes.delete(id);
    return [{ deleted: doomed.length }];
  }
  if (kind === 'drop') {
    for (const [id] of labelled(match[1]!)) model.nodes.delete(id);
    return [];
  }
  if (kind === 'read') {
    let rows = selected(match[1]!, match[2]!);
    if (match[3]) {
      rows = rows
        .sort(([, left], [, right]) =>
          String(left.properties.engram_order) < String(right.properties.engram_order) ? -1 : 1,
        )
        .slice(0, Number(parameters.limit));
    }
    return rows.map(([, node]) => ({
      record: node.properties.engram_record,
      ...(match[4]!.startsWith('CALL') ? { embedding: node.embedding } : {}),
    }));
  }
  throw new ModelError(400, 'ValidationException', `model: unknown statement ${query}`);
}

function answer(model: NeptuneAnalyticsModel, request: RecordedRequest): unknown {
  if (request.method === 'GET' && request.path.startsWith('/graphs/')) {
    if (decodeURIComponent(request.path.slice(8)) !== model.graphIdentifier) {
      throw new ModelError(404, 'ResourceNotFoundException', 'graph not found');
    }
    return {
      id: model.graphIdentifier,
      name: 'model',
      arn: `arn:model:${model.graphIdentifier}`,
      status: 'AVAILABLE',
      vectorSearchConfiguration: { dimension: model.dimension },
    };
  }
  if (request.method === 'POST' && request.path === '/queries') {
    if (request.headers.graphidentifier !== model.graphIdentifier) {
      throw new ModelError(404, 'ResourceNotFoundException', 'graph not found');
    }
    if (request.body.language !== 'OPEN_CYPHER') {
      throw new ModelError(400, 'ValidationException', 'language must be OPEN_CYPHER');
    }
    const parameters = (request.body.parameters ?? {}) as Record<string, unknown>;
    return { results: execute(model, String(request.body.query), parameters) };
  }
  throw new ModelError(404, 'UnknownOperationException', `model: ${request.path}`);
}

/** Starts the model on 127.0.0.1 (a free port) with a graph whose vector index has `dimension`. */
export async function startNeptuneAnalyticsModel(dimension = 16): Promise<NeptuneAnalyticsModel> {
  const model: NeptuneAnalyticsModel = {
    url: '',
    graphIdentifier: 'g-model000001',
    dimension,
    nodes: new Map(),
    requests: [],
    close: async () => {},
  };
  return startRecordingModel(model, {
    record: (incoming): RecordedRequest => ({
      method: incoming.method,
      path: incoming.path,
      headers: incoming.headers,
      body: incoming.body,
    }),
    route: (request) => answer(model, request),
    ...awsErrorProtocol,
  });
}
