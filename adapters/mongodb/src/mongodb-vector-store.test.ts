// Protocol-level tests, NOT against a real MongoDB: a tiny node:net stub speaks just enough of the
// MongoDB wire protocol (the OP_QUERY handshake and OP_MSG commands) to record the commands the
// official driver sends and to answer with replies shaped like those of the server's command
// reference. They check the pipelines, queries and writes this store builds and how it reads
// answers and errors; the real-server behaviour is covered by the conformance suite where Atlas
// Local runs.
import { createServer, type Server, type Socket } from 'node:net';
import {
  AdapterCallError,
  ClosedError,
  DimensionMismatchError,
  decodeCursor,
  InvalidArgumentError,
  NotFoundError,
  type VectorRecord,
} from '@engram/core';
import { BSON, type Document, MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryableMongoDBError } from './mongodb-errors.js';
import {
  cosineExpression,
  cosineFromVectorSearchScore,
  createMongoDBVectorStore,
  textIndexDefinition,
  vectorIndexDefinition,
} from './mongodb-vector-store.js';

type Handler = (command: Document) => Document | undefined;

let server: Server;
let port: number;
let commands: Document[] = [];
let handlers: Handler[] = [];
let connections = 0;
const clients: MongoClient[] = [];

const helloReply = () => ({
  helloOk: true,
  ismaster: true,
  isWritablePrimary: true,
  maxBsonObjectSize: 16_777_216,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: 1,
  minWireVersion: 0,
  maxWireVersion: 25,
  readOnly: false,
  ok: 1,
});

const cursor = (batch: Document[], ns = 'engram.memories') => ({
  cursor: { firstBatch: batch, id: BSON.Long.fromNumber(0), ns },
  ok: 1,
});

function commandName(command: Document): string {
  return Object.keys(command)[0]!;
}

function reply(command: Document): Document {
  const name = commandName(command);
  if (['hello', 'isMaster', 'ismaster'].includes(name)) return helloReply();
  if (name === 'endSessions' || name === 'ping') return { ok: 1 };
  for (const handler of handlers) {
    const answer = handler(command);
    if (answer) return answer;
  }
  return { ok: 0, errmsg: `stub: no handler for ${name}`, code: 59, codeName: 'CommandNotFound' };
}

function frame(requestId: number, responseTo: number, opCode: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + payload.length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, payload]);
}

function handleMessage(socket: Socket, message: Buffer) {
  const requestId = message.readInt32LE(4);
  const opCode = message.readInt32LE(12);
  if (opCode === 2004) {
    // OP_QUERY, used by the driver's initial handshake
    let offset = 20;
    while (message[offset] !== 0) offset++;
    offset += 9;
    const size = message.readInt32LE(offset);
    const query = BSON.deserialize(message.subarray(offset, offset + size));
    const document = BSON.serialize(reply(query));
    const body = Buffer.alloc(20);
    body.writeInt32LE(1, 16);
    socket.write(frame(requestId + 1_000_000, requestId, 1, Buffer.concat([body, document])));
    return;
  }
  // OP_MSG: flag bits, then sections (kind 0 body, kind 1 document sequences)
  let offset = 20;
  let command: Document = {};
  const end = message.readUInt32LE(16) & 1 ? message.length - 4 : message.length;
  while (offset < end) {
    const kind = message[offset]!;
    offset += 1;
    const size = message.readInt32LE(offset);
    if (kind === 0) {
      command = { ...BSON.deserialize(message.subarray(offset, offset + size)), ...command };
      offset += size;
    } else {
      let cursorOffset = offset + 4;
      while (message[cursorOffset] !== 0) cursorOffset++;
      const identifier = message.subarray(offset + 4, cursorOffset).toString('utf8');
      const documents: Document[] = [];
      for (let at = cursorOffset + 1; at < offset + size; ) {
        const length = message.readInt32LE(at);
        documents.push(BSON.deserialize(message.subarray(at, at + length)));
        at += length;
      }
      command[identifier] = documents;
      offset += size;
    }
  }
  if (!['hello', 'isMaster', 'ismaster', 'endSessions'].includes(commandName(command))) {
    const { lsid: _, $db: __, ...recorded } = command;
    commands.push(recorded);
  }
  const answer = reply(command);
  if (answer.$closeConnection) {
    socket.destroy();
    return;
  }
  const payload = Buffer.concat([Buffer.alloc(5), BSON.serialize(answer)]);
  socket.write(frame(requestId + 1_000_000, requestId, 2013, payload));
}

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    let buffered = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        handleMessage(socket, buffered.subarray(0, length));
        buffered = buffered.subarray(length);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const client of clients) await client.close(true);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  commands = [];
  handlers = [];
});

function newClient(): MongoClient {
  const client = new MongoClient(
    `mongodb://127.0.0.1:${port}/?directConnection=true&serverSelectionTimeoutMS=2000`,
  );
  clients.push(client);
  return client;
}

function on(handler: Handler) {
  handlers.push(handler);
}

function firstStage(command: Document): string | undefined {
  const pipeline = command.pipeline as Document[] | undefined;
  return pipeline?.[0] ? Object.keys(pipeline[0])[0] : undefined;
}

/** A collection prepared with an 4-dimensional vector index, as `$listSearchIndexes` reports it. */
function preparedIndexes(dimensions = 4): Handler {
  return (command) => {
    if (command.aggregate && firstStage(command) === '$listSearchIndexes') {
      return cursor([
        {
          id: '6524096020da840844a4c4a7',
          name: 'engram_vector',
          type: 'vectorSearch',
          status: 'READY',
          queryable: true,
          latestDefinition: vectorIndexDefinition(dimensions).definition,
        },
        {
          id: '6524096020da840844a4c4a8',
          name: 'engram_text',
          type: 'search',
          status: 'READY',
          queryable: true,
          latestDefinition: textIndexDefinition().definition,
        },
      ]);
    }
    return undefined;
  };
}

function record(seed: Partial<VectorRecord> = {}): VectorRecord {
  return {
    id: 'memory-1',
    vector: [3, 4, 0, 0],
    text: 'likes tea',
    userId: 'alice',
    metadata: { topic: 'drinks', tags: ['tea'], nested: { a: 1 } },
    createdAt: '2024-01-02T03:04:05.000Z',
    updatedAt: '2024-01-02T03:04:05.000Z',
    ...seed,
  };
}

function storedDocument(source: VectorRecord, score?: number): Document {
  const { id, vector: _, ...fields } = source;
  return { _id: id, ...fields, ...(score === undefined ? {} : { _score: score }) };
}

describe('MongoDBVectorStore commands (protocol-level wire stub, not a real server)', () => {
  it('does no I/O when created', async () => {
    const before = connections;
    const store = createMongoDBVectorStore({
      url: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    });
    expect(store.capabilities).toMatchObject({ keywordSearch: true, metric: 'cosine' });
    expect(store.capabilities.filterOperators).toHaveLength(13);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connections).toBe(before);
    await store.close();
  });

  it('creates the collection, scope indexes and both search indexes, then waits until queryable', async () => {
    let created = false;
    let polls = 0;
    on((command) => {
      if (command.create) return { ok: 1 };
      if (command.createIndexes)
        return {
          numIndexesBefore: 1,
          numIndexesAfter: 4,
          createdCollectionAutomatically: false,
          ok: 1,
        };
      if (command.createSearchIndexes) {
        created = true;
        return {
          indexesCreated: [
            { id: '6524096020da840844a4c4a7', name: 'engram_vector' },
            { id: '6524096020da840844a4c4a8', name: 'engram_text' },
          ],
          ok: 1,
        };
      }
      if (firstStage(command) === '$listSearchIndexes') {
        if (!created) return cursor([]);
        polls++;
        return polls < 2
          ? cursor([
              {
                name: 'engram_vector',
                status: 'PENDING',
                queryable: false,
                latestDefinition: vectorIndexDefinition(4).definition,
              },
              {
                name: 'engram_text',
                status: 'BUILDING',
                queryable: false,
                latestDefinition: textIndexDefinition().definition,
              },
            ])
          : preparedIndexes(4)(command);
      }
      return undefined;
    });
    const store = createMongoDBVectorStore({ client: newClient() });
    await store.ensureCollection({ collection: 'memories', dimensions: 4 });
    expect(commands.map(commandName)).toEqual([
      'create',
      'createIndexes',
      'aggregate',
      'createSearchIndexes',
      'aggregate',
      'aggregate',
    ]);
    expect(commands[1]!.indexes).toEqual([
      { key: { userId: 1 }, name: 'engram_userId' },
      { key: { agentId: 1 }, name: 'engram_agentId' },
      { key: { runId: 1 }, name: 'engram_runId' },
    ]);
    expect(commands[3]!.indexes).toEqual([
      {
        name: 'engram_vector',
        type: 'vectorSearch',
        definition: {
          fields: [
            { type: 'vector', path: 'vector', numDimensions: 4, similarity: 'cosine' },
            { type: 'filter', path: 'userId' },
            { type: 'filter', path: 'agentId' },
            { type: 'filter', path: 'runId' },
            { type: 'filter', path: '_write' },
          ],
        },
      },
      {
        name: 'engram_text',
        type: 'search',
        definition: {
          mappings: {
            dynamic: false,
            fields: {
              text: { type: 'string', analyzer: 'lucene.standard' },
              userId: { type: 'token' },
              agentId: { type: 'token' },
              runId: { type: 'token' },
              _write: { type: 'token' },
            },
          },
        },
      },
    ]);
  }, 20_000);

  it('refuses another dimension for an existing collection', async () => {
    on((command) =>
      command.create
        ? {
            ok: 0,
            errmsg: 'Collection already exists. NS: engram.memories',
            code: 48,
            codeName: 'NamespaceExists',
          }
        : undefined,
    );
    on((command) => (command.createIndexes ? { ok: 1 } : undefined));
    on(preparedIndexes(4));
    const store = createMongoDBVectorStore({ client: newClient() });
    const error = await store
      .ensureCollection({ collection: 'memories', dimensions: 8 })
      .catch((caught: unknown) => caught);
    expect(DimensionMismatchError.isInstance(error), String(error)).toBe(true);
  });

  it('upserts with replaceOne upserts, then waits until both search indexes hold the write', async () => {
    on(preparedIndexes(4));
    on((command) =>
      command.update
        ? {
            n: 2,
            nModified: 0,
            upserted: [
              { index: 0, _id: 'memory-1' },
              { index: 1, _id: 'memory-2' },
            ],
            ok: 1,
          }
        : undefined,
    );
    on((command) => {
      const stage = firstStage(command);
      if (stage === '$vectorSearch' || stage === '$search') return cursor([{ count: 2 }]);
      return undefined;
    });
    const store = createMongoDBVectorStore({ client: newClient() });
    await store.upsert({
      collection: 'memories',
      records: [record(), record({ id: 'memory-2', userId: undefined, agentId: 'planner' })],
    });
    const update = commands.find((command) => command.update)!;
    expect(update.update).toBe('memories');
    expect(update.ordered).toBe(false);
    const updates = update.updates as Document[];
    expect(updates).toHaveLength(2);
    const token = (updates[0]!.u as Document)._write as string;
    expect(updates[0]).toEqual({
      q: { _id: 'memory-1' },
      u: {
        _id: 'memory-1',
        text: 'likes tea',
        metadata: { topic: 'drinks', tags: ['tea'], nested: { a: 1 } },
        createdAt: '2024-01-02T03:04:05.000Z',
        updatedAt: '2024-01-02T03:04:05.000Z',
        vector: [3, 4, 0, 0],
        _norm: 5,
        _filter: {
          values: { topic: 'drinks', nested: { a: 1 } },
          arrays: { tags: ['tea'] },
          paths: ['topic', 'tags', 'nested', 'nested.a'],
        },
        _write: token,
        userId: 'alice',
      },
      upsert: true,
    });
    expect((updates[1]!.u as Document).agentId).toBe('planner');
    expect(updates[1]!.u).not.toHaveProperty('userId');
    const vectorProbe = commands.find((command) => firstStage(command) === '$vectorSearch')!;
    expect(vectorProbe.pipeline).toEqual([
      {
        $vectorSearch: {
          index: 'engram_vector',
          path: 'vector',
          queryVector: [1, 0, 0, 0],
          filter: { _write: { $eq: token } },
          exact: true,
          limit: 2,
        },
      },
      { $count: 'count' },
    ]);
    const textProbe = commands.find((command) => firstStage(command) === '$search')!;
    expect(textProbe.pipeline).toEqual([
      { $search: { index: 'engram_text', equals: { path: '_write', value: token } } },
      { $count: 'count' },
    ]);

    commands = [];
    await expect(
      store.upsert({ collection: 'memories', records: [record({ vector: [1, 2, 3] })] }),
    ).rejects.toSatisfy((error: unknown) => DimensionMismatchError.isInstance(error));
    expect(commands.some((command) => command.update)).toBe(false);
  });

  it('runs $vectorSearch for scoped queries and converts the score back to the cosine', async () => {
    const stored = record();
    on(preparedIndexes(4));
    on((command) =>
      firstStage(command) === '$vectorSearch' ? cursor([storedDocument(stored, 0.9)]) : undefined,
    );
    const store = createMongoDBVectorStore({ client: newClient() });
    const matches = await store.query({
      collection: 'memories',
      vector: [1, 0, 0, 0],
      topK: 5,
      scope: { userId: 'alice', agentId: 'planner' },
    });
    const aggregate = commands.find((command) => firstStage(command) === '$vectorSearch')!;
    const scope = { $and: [{ userId: { $eq: 'alice' } }, { agentId: { $eq: 'planner' } }] };
    expect(aggregate.pipeline).toEqual([
      {
        $vectorSearch: {
          index: 'engram_vector',
          path: 'vector',
          queryVector: [1, 0, 0, 0],
          limit: 5,
          numCandidates: 100,
          filter: scope,
        },
      },
      { $addFields: { _score: { $meta: 'vectorSearchScore' } } },
      { $match: scope },
      { $project: { _filter: 0, _write: 0, _norm: 0, vector: 0, _score: 1 } },
    ]);
    expect(matches).toHaveLength(1);
    expect(matches[0]!.score).toBeCloseTo(0.8, 10);
    const { vector: _, ...withoutVector } = stored;
    expect(matches[0]!.record).toEqual(withoutVector);
  });

  it('scores filtered queries exactly after the MQL $match, before the limit', async () => {
    on(preparedIndexes(4));
    on((command) => (firstStage(command) === '$match' ? cursor([]) : undefined));
    const store = createMongoDBVectorStore({ client: newClient() });
    await store.query({
      collection: 'memories',
      vector: [0, 2, 0, 0],
      topK: 3,
      scope: { userId: 'alice' },
      filter: { op: 'contains', field: 'tags', value: 'tea' },
      includeVectors: true,
    });
    const aggregate = commands.find((command) => firstStage(command) === '$match')!;
    expect(aggregate.pipeline).toEqual([
      {
        $match: {
          $and: [
            { userId: { $eq: 'alice' } },
            {
              $or: [
                { '_filter.arrays.tags': { $eq: 'tea' } },
                { '_filter.values.tags': { $regex: 'tea' } },
              ],
            },
          ],
        },
      },
      { $addFields: { _score: cosineExpression([0, 2, 0, 0]) } },
      { $sort: { _score: -1, _id: 1 } },
      { $limit: 3 },
      { $project: { _filter: 0, _write: 0, _norm: 0, _score: 1 } },
    ]);
  });

  it('runs keyword queries through $search with the scope as token filters', async () => {
    on(preparedIndexes(4));
    on((command) =>
      firstStage(command) === '$search' ? cursor([storedDocument(record(), 2.5)]) : undefined,
    );
    const store = createMongoDBVectorStore({ client: newClient() });
    const matches = await store.query({
      collection: 'memories',
      text: 'tea',
      topK: 2,
      scope: { userId: 'alice' },
    });
    const aggregate = commands.find((command) => firstStage(command) === '$search')!;
    expect(aggregate.pipeline).toEqual([
      {
        $search: {
          index: 'engram_text',
          compound: {
            must: [{ text: { query: 'tea', path: 'text' } }],
            filter: [{ equals: { path: 'userId', value: 'alice' } }],
          },
        },
      },
      { $match: { userId: { $eq: 'alice' } } },
      { $limit: 2 },
      { $addFields: { _score: { $meta: 'searchScore' } } },
      { $project: { _filter: 0, _write: 0, _norm: 0, vector: 0, _score: 1 } },
    ]);
    expect(matches[0]!.score).toBe(2.5);
  });

  it('lists in _id order with a cursor after the last id, and counts with countDocuments', async () => {
    on(preparedIndexes(4));
    on((command) =>
      command.find
        ? cursor([
            storedDocument(record({ id: 'a' })),
            storedDocument(record({ id: 'b' })),
            storedDocument(record({ id: 'c' })),
          ])
        : undefined,
    );
    on((command) => (firstStage(command) === '$match' ? cursor([{ _id: 1, n: 42 }]) : undefined));
    const store = createMongoDBVectorStore({ client: newClient() });
    const page = await store.list({ collection: 'memories', limit: 2, scope: { runId: 'r' } });
    expect(page.records.map((item) => item.id)).toEqual(['a', 'b']);
    expect(decodeCursor(page.nextCursor)).toBe('b');
    const find = commands.find((command) => command.find)!;
    expect(find).toMatchObject({
      find: 'memories',
      filter: { runId: { $eq: 'r' } },
      sort: { _id: 1 },
      limit: 3,
      projection: { _filter: 0, _write: 0, _norm: 0, vector: 0 },
    });
    commands = [];
    await store.list({ collection: 'memories', limit: 2, cursor: page.nextCursor! });
    expect(commands.find((command) => command.find)!.filter).toEqual({ _id: { $gt: 'b' } });
    await expect(store.list({ collection: 'memories', limit: 2, cursor: '%%%' })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );

    commands = [];
    expect(
      await store.count({ collection: 'memories', filter: { op: 'exists', field: 'topic' } }),
    ).toBe(42);
    expect(commands.at(-1)!.pipeline).toEqual([
      { $match: { '_filter.paths': { $eq: 'topic' } } },
      { $group: { _id: 1, n: { $sum: 1 } } },
    ]);
  });

  it('deletes by ids and by filter with the server’s deleted count', async () => {
    on(preparedIndexes(4));
    on((command) => (command.delete ? { n: 1, ok: 1 } : undefined));
    const store = createMongoDBVectorStore({ client: newClient() });
    expect(await store.delete({ collection: 'memories', ids: ['memory-1', 'missing'] })).toEqual({
      deleted: 1,
    });
    expect(commands.find((command) => command.delete)!.deletes).toEqual([
      { q: { _id: { $in: ['memory-1', 'missing'] } }, limit: 0 },
    ]);
    commands = [];
    await store.delete({
      collection: 'memories',
      scope: { userId: 'alice' },
      filter: { op: 'lt', field: 'n', value: 3 },
    });
    expect(commands.find((command) => command.delete)!.deletes).toEqual([
      { q: { $and: [{ userId: { $eq: 'alice' } }, { '_filter.values.n': { $lt: 3 } }] }, limit: 0 },
    ]);
    await expect(store.delete({ collection: 'memories', scope: {} })).rejects.toSatisfy(
      (error: unknown) => InvalidArgumentError.isInstance(error),
    );
  });

  it('reports a collection without its search indexes as NotFoundError', async () => {
    on((command) =>
      firstStage(command) === '$listSearchIndexes'
        ? {
            ok: 0,
            errmsg: 'Collection engram.nowhere does not exist',
            code: 26,
            codeName: 'NamespaceNotFound',
          }
        : undefined,
    );
    const store = createMongoDBVectorStore({ client: newClient() });
    await expect(store.count({ collection: 'nowhere' })).rejects.toSatisfy((error: unknown) =>
      NotFoundError.isInstance(error),
    );
  });

  it('maps server errors: elections and overload are retryable, bad requests are not', async () => {
    for (const [code, codeName, retryable] of [
      [189, 'PrimarySteppedDown', true],
      [91, 'ShutdownInProgress', true],
      [262, 'ExceededTimeLimit', true],
      [2, 'BadValue', false],
      [13, 'Unauthorized', false],
    ] as const) {
      handlers = [
        preparedIndexes(4),
        (command) =>
          firstStage(command) === '$match'
            ? { ok: 0, errmsg: `stub ${codeName}`, code, codeName }
            : undefined,
      ];
      const store = createMongoDBVectorStore({ client: newClient() });
      const error = await store
        .count({ collection: 'memories', scope: { userId: 'u' } })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error), `${codeName}: ${String(error)}`).toBe(true);
      expect((error as AdapterCallError).isRetryable, codeName).toBe(retryable);
      expect((error as AdapterCallError).source).toBe('mongodb');
      expect((error as AdapterCallError).cause).toBeDefined();
    }
  });

  it('treats an unreachable server as retryable', async () => {
    const client = new MongoClient(
      'mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=300',
    );
    clients.push(client);
    const store = createMongoDBVectorStore({ client });
    const error = await store.count({ collection: 'memories' }).catch((caught: unknown) => caught);
    expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect(isRetryableMongoDBError(Object.assign(new Error('x'), { code: 11600 }))).toBe(true);
  });

  it('rejects every call after close() and closes only a client it created', async () => {
    const client = newClient();
    const store = createMongoDBVectorStore({ client });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'memories' })).rejects.toSatisfy((error: unknown) =>
      ClosedError.isInstance(error),
    );
    on(preparedIndexes(4));
    on((command) => (firstStage(command) === '$match' ? cursor([{ _id: 1, n: 0 }]) : undefined));
    expect(await createMongoDBVectorStore({ client }).count({ collection: 'memories' })).toBe(0);
  });

  it('converts Atlas vector search scores back to cosine similarity', () => {
    expect(cosineFromVectorSearchScore(1)).toBe(1);
    expect(cosineFromVectorSearchScore(0.5)).toBe(0);
    expect(cosineFromVectorSearchScore(0)).toBe(-1);
  });
});
