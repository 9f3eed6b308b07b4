import {
  ClosedError,
  DimensionMismatchError,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  type JsonValue,
  keywordText,
  type StoredRecord,
  UnsupportedFunctionalityError,
  type VectorRecord,
  type VectorStore,
} from '@engram/core';
import { expect } from 'vitest';
import type { VectorStoreTestContext } from './harness.js';
import {
  axisVector,
  caught,
  listAll,
  makeRecord,
  newId,
  normalize,
  randomUnitVector,
  sortedIds,
  uniqueCollectionName,
  upsertAll,
} from './support.js';

/** Every kind of JSON value a memory's metadata may hold. */
export const payloadSamples: Record<string, JsonValue> = {
  emoji: '🧠 remembers 👩🏽‍💻 and 🇯🇵',
  cjk: '記憶と学習、长期记忆',
  rtl: 'ذاكرة طويلة المدى עברית',
  punctuation: 'quotes "double" \'single\' back\\slash\nnew line\ttab % _ *',
  emptyString: '',
  zero: 0,
  integer: 42,
  negative: -17,
  largeInteger: 2_147_483_647,
  smallestInteger: -2_147_483_648,
  float: 1234.5678,
  negativeFloat: -273.15,
  tinyFloat: 0.000123,
  yes: true,
  no: false,
  nothing: null,
  mixedList: ['a', 1, true, null, 2.5],
  strings: ['x', 'y', 'z'],
  emptyList: [],
  nested: { level1: { level2: { value: 'deep', count: 3 } }, list: [{ a: 1 }, { b: [2, 3] }] },
  emptyObject: {},
  isoDate: '2024-02-29T12:34:56.789Z',
  dateOnly: '2024-02-29',
};

function withoutVector(record: VectorRecord): StoredRecord {
  const { vector: _, ...rest } = record;
  return rest;
}

function expectVectorClose(actual: number[] | undefined, expected: number[]): void {
  expect(actual).toBeDefined();
  expect(actual).toHaveLength(expected.length);
  for (const [index, value] of expected.entries()) {
    // float32 storage keeps about seven significant digits
    expect(Math.abs((actual?.[index] ?? Number.NaN) - value)).toBeLessThan(1e-5);
  }
}

function expectDescending(scores: number[]): void {
  for (let index = 1; index < scores.length; index++) {
    expect(scores[index]!).toBeLessThanOrEqual(scores[index - 1]! + 1e-9);
  }
}

export function collectionsSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('ensureCollection is idempotent and keeps existing records', async () => {
    const collection = await createCollection('idempotent');
    await store().ensureCollection({ collection, dimensions });
    const record = makeRecord(dimensions);
    await store().upsert({ collection, records: [record] });
    await store().ensureCollection({ collection, dimensions });
    await store().ensureCollection({ collection, dimensions });
    expect(sortedIds(await store().get({ collection, ids: [record.id] }))).toEqual([record.id]);
    expect(await store().count({ collection })).toBe(1);
  });

  test('ensureCollection with another dimension throws DimensionMismatchError', async () => {
    const collection = await createCollection('dimension');
    const error = await caught(() =>
      store().ensureCollection({ collection, dimensions: dimensions + 1 }),
    );
    expect(DimensionMismatchError.isInstance(error), String(error)).toBe(true);
  });

  test('upsert of a vector of another length throws DimensionMismatchError', async () => {
    const collection = await createCollection('vector_length');
    const record = makeRecord(dimensions, { vector: randomUnitVector(dimensions + 1) });
    const error = await caught(() => store().upsert({ collection, records: [record] }));
    expect(DimensionMismatchError.isInstance(error), String(error)).toBe(true);
    expect(await store().count({ collection })).toBe(0);
  });

  test('dropCollection removes the collection and its records', async () => {
    const collection = await createCollection('drop');
    await store().upsert({ collection, records: [makeRecord(dimensions)] });
    await store().dropCollection({ collection });
    // a dropped collection can be created again, even with another dimension, and is empty
    await store().ensureCollection({ collection, dimensions: dimensions + 2 });
    expect(await store().count({ collection })).toBe(0);
    await store().dropCollection({ collection });
  });
}

export function payloadsSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('upsert/get round trips every metadata payload type and record field', async () => {
    const collection = await createCollection('payloads');
    const full = makeRecord(dimensions, {
      text: 'Prefers 🍣 sushi, 日本語, العربية, and "quotes"',
      hash: 'a1b2c3d4e5f60718',
      userId: 'user-ø-世界',
      agentId: 'agent/travel planner',
      runId: 'run:2024-02-29',
      metadata: payloadSamples,
      createdAt: '2024-01-02T03:04:05.678Z',
      updatedAt: '2024-05-06T07:08:09.012Z',
    });
    const minimal = makeRecord(dimensions, { text: 'minimal', metadata: {} });
    await store().upsert({ collection, records: [full, minimal] });

    const missing = newId();
    const records = await store().get({ collection, ids: [full.id, missing, minimal.id] });
    const byId = new Map(records.map((record) => [record.id, record]));
    expect([...byId.keys()].sort()).toEqual([full.id, minimal.id].sort());
    expect(byId.get(full.id)).toEqual(withoutVector(full));
    expect(byId.get(full.id)?.vector).toBeUndefined();
    expect(byId.get(minimal.id)).toEqual(withoutVector(minimal));
    for (const field of ['hash', 'userId', 'agentId', 'runId'] as const) {
      expect(byId.get(minimal.id)?.[field], `${field} of a record without one`).toBeUndefined();
    }
  });

  test('get returns vectors only with includeVectors', async () => {
    const collection = await createCollection('vectors');
    const record = makeRecord(dimensions);
    await store().upsert({ collection, records: [record] });
    const [withVector] = await store().get({ collection, ids: [record.id], includeVectors: true });
    expectVectorClose(withVector?.vector, record.vector);
    const [withoutVectors] = await store().get({ collection, ids: [record.id] });
    expect(withoutVectors?.vector).toBeUndefined();
    const page = await store().list({ collection, limit: 10, includeVectors: true });
    expectVectorClose(page.records[0]?.vector, record.vector);
  });

  test('get of missing ids leaves them out', async () => {
    const collection = await createCollection('missing');
    const record = makeRecord(dimensions);
    await store().upsert({ collection, records: [record] });
    expect(await store().get({ collection, ids: [newId(), newId()] })).toEqual([]);
    expect(await store().get({ collection, ids: [] })).toEqual([]);
    expect(sortedIds(await store().get({ collection, ids: [newId(), record.id] }))).toEqual([
      record.id,
    ]);
  });

  test('re-upsert of an id replaces its text, metadata, vector and scope', async () => {
    const collection = await createCollection('replace');
    const original = makeRecord(dimensions, {
      text: 'original text',
      hash: 'original',
      userId: 'first-user',
      agentId: 'first-agent',
      metadata: { kept: 'no', count: 1, nested: { a: 1 } },
      vector: axisVector(dimensions, 0),
    });
    await store().upsert({ collection, records: [original] });
    const replacement: VectorRecord = {
      id: original.id,
      text: 'replacement text',
      hash: 'replacement',
      userId: 'second-user',
      runId: 'second-run',
      metadata: { other: true },
      vector: axisVector(dimensions, 1),
      createdAt: original.createdAt,
      updatedAt: '2031-01-01T00:00:00.000Z',
    };
    await store().upsert({ collection, records: [replacement] });

    const [stored] = await store().get({ collection, ids: [original.id], includeVectors: true });
    expect(stored && { ...stored, vector: undefined }).toEqual(withoutVector(replacement));
    expect(stored?.agentId).toBeUndefined();
    expectVectorClose(stored?.vector, replacement.vector);
    expect(await store().count({ collection })).toBe(1);
    expect(await store().count({ collection, scope: { userId: 'first-user' } })).toBe(0);
    expect(await store().count({ collection, scope: { agentId: 'first-agent' } })).toBe(0);
    expect(await store().count({ collection, scope: { userId: 'second-user' } })).toBe(1);
    const [match] = await store().query({ collection, vector: axisVector(dimensions, 1), topK: 1 });
    expect(match?.record.id).toBe(original.id);
    expect(match?.record.text).toBe('replacement text');
  });
}

export function querySection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('returns at most topK matches, best first', async () => {
    const collection = await createCollection('topk');
    const records = Array.from({ length: 20 }, () => makeRecord(dimensions));
    await store().upsert({ collection, records });
    const vector = randomUnitVector(dimensions);
    const five = await store().query({ collection, vector, topK: 5 });
    expect(five).toHaveLength(5);
    expectDescending(five.map((match) => match.score));
    const all = await store().query({ collection, vector, topK: 50 });
    expect(sortedIds(all.map((match) => match.record))).toEqual(sortedIds(records));
    expectDescending(all.map((match) => match.score));
    expect(all.slice(0, 5).map((match) => match.score)).toEqual(
      five.map((match) => expect.closeTo(match.score, 6)),
    );
    expect(all[0]?.record.vector).toBeUndefined();
    const withVectors = await store().query({ collection, vector, topK: 1, includeVectors: true });
    const best = records.find((record) => record.id === withVectors[0]?.record.id);
    expectVectorClose(withVectors[0]?.record.vector, best?.vector ?? []);
  });

  test('scores are similarities: identical ranks first and closer scores higher', async () => {
    const collection = await createCollection('scores');
    const axis0 = axisVector(dimensions, 0);
    const axis1 = axisVector(dimensions, 1);
    const identical = makeRecord(dimensions, { text: 'identical', vector: axis0 });
    const near = makeRecord(dimensions, {
      text: 'near',
      vector: normalize(axis0.map((value, index) => value + 0.5 * axis1[index]!)),
    });
    const orthogonal = makeRecord(dimensions, { text: 'orthogonal', vector: axis1 });
    const opposite = makeRecord(dimensions, {
      text: 'opposite',
      vector: axisVector(dimensions, 0, -1),
    });
    await store().upsert({ collection, records: [opposite, orthogonal, identical, near] });
    const matches = await store().query({ collection, vector: axis0, topK: 4 });
    expect(matches.map((match) => match.record.text)).toEqual([
      'identical',
      'near',
      'orthogonal',
      'opposite',
    ]);
    const scores = matches.map((match) => match.score);
    for (let index = 1; index < scores.length; index++) {
      expect(scores[index]!).toBeLessThan(scores[index - 1]!);
    }
    const metric = store().capabilities.metric;
    if (metric === 'cosine' || metric === 'dot') {
      // unit vectors: cosine similarity and dot product are the same numbers
      const expected = [1, 1 / Math.sqrt(1.25), 0, -1];
      for (const [index, score] of scores.entries()) {
        expect(
          Math.abs(score - expected[index]!),
          `score of ${matches[index]?.record.text}`,
        ).toBeLessThan(1e-3);
      }
    }
  });

  test('scope and filter apply before topK, never after', async () => {
    const collection = await createCollection('prefilter');
    const target = axisVector(dimensions, 0);
    const crowd = Array.from({ length: 40 }, (_, index) =>
      makeRecord(dimensions, {
        userId: 'crowd',
        metadata: { group: 'crowd', index },
        vector: normalize(target.map((value) => value + Math.random() * 0.05)),
      }),
    );
    const far = Array.from({ length: 3 }, (_, index) =>
      makeRecord(dimensions, {
        userId: 'few',
        metadata: { group: 'few', index },
        vector: axisVector(dimensions, 0, -1).map((value, axis) =>
          axis === 1 ? 0.1 * index : value,
        ),
      }),
    );
    await store().upsert({ collection, records: [...crowd, ...far] });
    const byScope = await store().query({
      collection,
      vector: target,
      topK: 3,
      scope: { userId: 'few' },
    });
    expect(sortedIds(byScope.map((match) => match.record))).toEqual(sortedIds(far));
    const byFilter = await store().query({
      collection,
      vector: target,
      topK: 3,
      filter: { op: 'eq', field: 'group', value: 'few' },
    });
    expect(sortedIds(byFilter.map((match) => match.record))).toEqual(sortedIds(far));
  });
}

export function paginationSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions, harness } = context;
  const bulkTimeout = (harness.timeout ?? 30_000) * 4;

  test(
    'cursor pagination through 1,100 records misses and repeats nothing',
    async () => {
      const collection = await createCollection('pagination');
      const records = Array.from({ length: 1_100 }, (_, index) =>
        makeRecord(dimensions, {
          userId: index % 3 === 0 ? 'pager-other' : 'pager',
          metadata: { index, even: index % 2 === 0 },
        }),
      );
      await upsertAll(store(), collection, records);

      const pageSize = 97;
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store().list({
          collection,
          limit: pageSize,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.records.length).toBeLessThanOrEqual(pageSize);
        if (page.nextCursor) expect(page.records.length).toBeGreaterThan(0);
        seen.push(...page.records.map((record) => record.id));
        cursor = page.nextCursor;
        pages++;
        expect(pages, 'list kept returning a nextCursor').toBeLessThan(100);
      } while (cursor);
      expect(new Set(seen).size, 'no record repeated').toBe(seen.length);
      expect(seen.slice().sort()).toEqual(sortedIds(records));

      const expected = records.filter(
        (record) => record.userId === 'pager' && record.metadata.even === true,
      );
      const scoped = await listAll(store(), {
        collection,
        limit: pageSize,
        scope: { userId: 'pager' },
        filter: { op: 'eq', field: 'even', value: true },
      });
      expect(sortedIds(scoped)).toEqual(sortedIds(expected));
      expect(new Set(scoped.map((record) => record.id)).size).toBe(scoped.length);
    },
    bulkTimeout,
  );

  test('an invalid cursor throws InvalidArgumentError', async () => {
    const collection = await createCollection('cursor');
    await store().upsert({ collection, records: [makeRecord(dimensions), makeRecord(dimensions)] });
    const error = await caught(() =>
      store().list({ collection, limit: 1, cursor: '%%%not-a-cursor%%%' }),
    );
    expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
  });
}

export function deleteSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('delete by ids returns the count and leaves the rest', async () => {
    const collection = await createCollection('delete_ids');
    const records = Array.from({ length: 10 }, () => makeRecord(dimensions));
    await store().upsert({ collection, records });
    const doomed = records.slice(0, 4).map((record) => record.id);
    const result = await store().delete({ collection, ids: [...doomed, newId()] });
    expect(result.deleted).toBe(4);
    expect(sortedIds(await listAll(store(), { collection }))).toEqual(sortedIds(records.slice(4)));
    expect(await store().get({ collection, ids: doomed })).toEqual([]);
    expect((await store().delete({ collection, ids: doomed })).deleted).toBe(0);
  });

  test('delete by filter and scope returns the count and leaves the rest', async () => {
    const collection = await createCollection('delete_filter');
    const records = Array.from({ length: 24 }, (_, index) =>
      makeRecord(dimensions, {
        userId: index % 2 === 0 ? 'keeper' : 'cleaner',
        metadata: { kind: index % 3 === 0 ? 'temporary' : 'durable', index },
      }),
    );
    await store().upsert({ collection, records });
    const isDoomed = (record: VectorRecord) =>
      record.userId === 'cleaner' && record.metadata.kind === 'temporary';
    const result = await store().delete({
      collection,
      scope: { userId: 'cleaner' },
      filter: { op: 'eq', field: 'kind', value: 'temporary' },
    });
    expect(result.deleted).toBe(records.filter(isDoomed).length);
    const rest = records.filter((record) => !isDoomed(record));
    expect(sortedIds(await listAll(store(), { collection }))).toEqual(sortedIds(rest));

    // a store without ranges (capabilities say so) deletes by an equality filter instead
    const ranges = store().capabilities.filterOperators.includes('gte');
    const byFilter = await store().delete({
      collection,
      filter: ranges
        ? { op: 'gte', field: 'index', value: 20 }
        : { op: 'eq', field: 'index', value: 20 },
    });
    const afterFilter = rest.filter((record) =>
      ranges ? (record.metadata.index as number) < 20 : record.metadata.index !== 20,
    );
    expect(byFilter.deleted).toBe(rest.length - afterFilter.length);

    const byScope = await store().delete({ collection, scope: { userId: 'keeper' } });
    const afterScope = afterFilter.filter((record) => record.userId !== 'keeper');
    expect(byScope.deleted).toBe(afterFilter.length - afterScope.length);
    expect(sortedIds(await listAll(store(), { collection }))).toEqual(sortedIds(afterScope));
    expect(await store().count({ collection })).toBe(afterScope.length);
  });
}

export function batchSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions, harness } = context;
  test(
    'batch upsert of 5,000 records in maxBatchSize chunks keeps them all',
    async () => {
      const collection = await createCollection('batch');
      const maxBatchSize = store().capabilities.maxBatchSize;
      expect(Number.isInteger(maxBatchSize) && maxBatchSize > 0, 'maxBatchSize').toBe(true);
      const records = Array.from({ length: 5_000 }, (_, index) =>
        makeRecord(dimensions, { text: `batch record ${index}`, metadata: { index } }),
      );
      await upsertAll(store(), collection, records);
      expect(await store().count({ collection })).toBe(5_000);
      const sample = [records[0]!, records[2_500]!, records[4_999]!];
      const stored = await store().get({ collection, ids: sample.map((record) => record.id) });
      expect(sortedIds(stored)).toEqual(sortedIds(sample));
      const ranges = store().capabilities.filterOperators.includes('lt');
      expect(
        await store().count({
          collection,
          filter: ranges
            ? { op: 'lt', field: 'index', value: 1_000 }
            : { op: 'eq', field: 'index', value: 1_000 },
        }),
      ).toBe(ranges ? 1_000 : 1);
    },
    (harness.timeout ?? 30_000) * 4,
  );
}

export function concurrencySection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  test('50 concurrent upserts and queries succeed and keep every record', async () => {
    const collection = await createCollection('concurrency');
    const records = Array.from({ length: 50 }, (_, index) =>
      makeRecord(dimensions, { userId: `user-${index % 5}`, metadata: { index } }),
    );
    const results = await Promise.all(
      records.flatMap((record, index) => [
        store().upsert({ collection, records: [record] }),
        store().query({
          collection,
          vector: randomUnitVector(dimensions),
          topK: 5,
          scope: { userId: `user-${index % 5}` },
        }),
      ]),
    );
    for (const result of results) {
      if (Array.isArray(result)) expect(result.length).toBeLessThanOrEqual(5);
    }
    expect(await store().count({ collection })).toBe(50);
    const stored = await store().get({ collection, ids: records.map((record) => record.id) });
    expect(sortedIds(stored)).toEqual(sortedIds(records));
  });
}

export function keywordSearchSection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions, harness } = context;
  test('query({ text }) ranks the record holding the rare words first, within the scope', async (context) => {
    if (!store().capabilities.keywordSearch) {
      context.skip('the store does not declare keywordSearch');
    }
    const collection = await createCollection('keyword');
    const common = [
      'I like coffee in the morning',
      'The weather is nice today',
      'My favourite colour is blue',
      'Coffee with the team on Mondays',
      'Remember to water the plants',
      'The meeting moved to Thursday',
      'Prefers tea over coffee in the evening',
      'Allergic to peanuts',
    ];
    const target = makeRecord(dimensions, {
      userId: 'reader',
      text: 'The axolotl in the lab has zygomorphic quetzal feathers painted on its tank',
    });
    const others = common.map((text) => makeRecord(dimensions, { userId: 'reader', text }));
    const decoy = makeRecord(dimensions, {
      userId: 'someone-else',
      text: 'axolotl zygomorphic axolotl zygomorphic axolotl',
    });
    await store().upsert({ collection, records: [...others, target, decoy] });
    const matches = await store().query({
      collection,
      text: 'zygomorphic axolotl',
      topK: 5,
      scope: { userId: 'reader' },
    });
    expect(matches[0]?.record.id).toBe(target.id);
    expect(matches.map((match) => match.record.id)).not.toContain(decoy.id);
    for (const match of matches) expect(match.record.userId).toBe('reader');
    expectDescending(matches.map((match) => match.score));
  });

  test('query({ text }) finds a Chinese and a Japanese memory by one word', async (context) => {
    if (!store().capabilities.keywordSearch) {
      context.skip('the store does not declare keywordSearch');
    }
    if (harness.keywordTextGap) context.skip(harness.keywordTextGap);
    const collection = await createCollection('keyword_cjk');
    // Records and queries in the form the engine hands them over: the keyword text beside the text.
    const memory = (text: string) =>
      makeRecord(dimensions, { userId: 'reader', text, keywordText: keywordText(text) });
    const chinese = memory('我最喜欢吃四川火锅');
    const japanese = memory('私は東京に住んでいます');
    const others = [
      memory('我每天早上喝咖啡'),
      memory('週末は京都で写真を撮ります'),
      memory('Loves hiking in the Swiss Alps'),
    ];
    await store().upsert({ collection, records: [chinese, japanese, ...others] });
    for (const [word, expected] of [
      ['火锅', chinese],
      ['東京', japanese],
    ] as const) {
      const matches = await store().query({
        collection,
        text: keywordText(word),
        topK: 3,
        scope: { userId: 'reader' },
      });
      expect(matches[0]?.record.id, `"${word}" finds "${expected.text}"`).toBe(expected.id);
      expect(matches[0]?.record.text).toBe(expected.text);
    }
  });

  test('query({ text }) throws UnsupportedFunctionalityError without keywordSearch', async (context) => {
    if (store().capabilities.keywordSearch) {
      context.skip('the store declares keywordSearch');
    }
    const collection = await createCollection('no_keyword');
    await store().upsert({ collection, records: [makeRecord(dimensions, { text: 'some words' })] });
    const error = await caught(() => store().query({ collection, text: 'words', topK: 3 }));
    expect(UnsupportedFunctionalityError.isInstance(error), String(error)).toBe(true);
  });
}

export function closeSection(context: VectorStoreTestContext) {
  const { test, harness, dimensions, store: sharedStore } = context;
  test('calls after close() reject with ClosedError', async () => {
    const own: VectorStore = await harness.create();
    const collection = uniqueCollectionName(
      harness.collectionPrefix ?? 'engram_conformance',
      'close',
    );
    const record = makeRecord(dimensions);
    try {
      await own.ensureCollection({ collection, dimensions });
      await own.upsert({ collection, records: [record] });
    } finally {
      await own.close();
    }
    await own.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['ensureCollection', () => own.ensureCollection({ collection, dimensions })],
      ['upsert', () => own.upsert({ collection, records: [record] })],
      ['query', () => own.query({ collection, vector: record.vector, topK: 1 })],
      ['get', () => own.get({ collection, ids: [record.id] })],
      ['list', () => own.list({ collection, limit: 1 })],
      ['count', () => own.count({ collection })],
      ['delete', () => own.delete({ collection, ids: [record.id] })],
      ['dropCollection', () => own.dropCollection({ collection })],
    ];
    for (const [name, call] of calls) {
      const error = await caught(call);
      expect(ClosedError.isInstance(error), `${name} after close(): ${String(error)}`).toBe(true);
    }
    try {
      await sharedStore().dropCollection({ collection });
    } catch {
      // the closed store may have used its own database; nothing to clean up then
    }
  });
}

function historyEvent(
  namespace: string,
  memoryId: string,
  event: HistoryEvent['event'],
  text: string,
): HistoryEvent {
  return {
    id: newId(),
    namespace,
    memoryId,
    event,
    previousText: event === 'ADD' ? null : 'before',
    newText: event === 'DELETE' ? null : text,
    userId: 'committer',
    actor: 'engine',
    createdAt: new Date().toISOString(),
  };
}

export function atomicHistorySection(context: VectorStoreTestContext) {
  const { test, store, createCollection, dimensions } = context;
  function historyOf(vectorStore: VectorStore): HistoryStore {
    const candidate = vectorStore as Partial<HistoryStore>;
    expect(typeof candidate.byMemory, 'a store with atomicHistory is also a HistoryStore').toBe(
      'function',
    );
    return vectorStore as unknown as HistoryStore;
  }

  test('commit applies upserts, deletes and history events together', async (context) => {
    if (!store().capabilities.atomicHistory)
      context.skip('the store does not declare atomicHistory');
    expect(typeof store().commit).toBe('function');
    const collection = await createCollection('commit');
    const existing = makeRecord(dimensions, { text: 'to be deleted', userId: 'committer' });
    await store().upsert({ collection, records: [existing] });
    const added = [
      makeRecord(dimensions, { text: 'first', userId: 'committer' }),
      makeRecord(dimensions, { text: 'second', userId: 'committer' }),
    ];
    const events = [
      historyEvent(collection, added[0]!.id, 'ADD', 'first'),
      historyEvent(collection, added[1]!.id, 'ADD', 'second'),
      historyEvent(collection, existing.id, 'DELETE', ''),
    ];
    await store().commit!({ collection, upsert: added, delete: [existing.id], history: events });
    expect(await store().get({ collection, ids: [existing.id] })).toEqual([]);
    expect(sortedIds(await listAll(store(), { collection }))).toEqual(sortedIds(added));
    const history = historyOf(store());
    expect(await history.byMemory({ namespace: collection, memoryId: added[0]!.id })).toEqual([
      events[0],
    ]);
    expect(await history.byMemory({ namespace: collection, memoryId: added[1]!.id })).toEqual([
      events[1],
    ]);
    expect(await history.byMemory({ namespace: collection, memoryId: existing.id })).toEqual([
      events[2],
    ]);
  });

  test('a commit that fails applies nothing', async (context) => {
    if (!store().capabilities.atomicHistory)
      context.skip('the store does not declare atomicHistory');
    const collection = await createCollection('commit_fail');
    const existing = makeRecord(dimensions, { userId: 'committer' });
    await store().upsert({ collection, records: [existing] });
    const good = makeRecord(dimensions, { userId: 'committer' });
    const bad = makeRecord(dimensions, { vector: randomUnitVector(dimensions + 1) });
    const event = historyEvent(collection, good.id, 'ADD', 'never');
    await caught(() =>
      store().commit!({ collection, upsert: [good, bad], delete: [existing.id], history: [event] }),
    );
    expect(sortedIds(await listAll(store(), { collection }))).toEqual([existing.id]);
    expect(await historyOf(store()).byMemory({ namespace: collection, memoryId: good.id })).toEqual(
      [],
    );
  });

  test('commit is absent when atomicHistory is false', async (context) => {
    if (store().capabilities.atomicHistory) context.skip('the store declares atomicHistory');
    expect(store().commit).toBeUndefined();
  });
}
