import { describe, expect, it } from 'vitest';
import { AbortedError, AdapterCallError, ClosedError } from './errors.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import type { LLMGenerateOptions } from './llm.js';
import { Memory } from './memory.js';
import {
  createLeaseScopeLock,
  type LeaseLockBackend,
  type ScopeLock,
  scopeLockKey,
} from './scope-lock.js';
import { createScriptedLLM, isExtractionRequest } from './testing/index.js';

/** Leases in one map: what a database table or Redis holds, shared by every "process". */
function sharedLeases() {
  const leases = new Map<string, { token: string; expiresAt: number }>();
  const acquired: string[] = [];
  const backend: LeaseLockBackend = {
    async tryAcquire(key, token, leaseMs) {
      const lease = leases.get(key);
      if (lease && lease.token !== token && lease.expiresAt > Date.now()) return false;
      leases.set(key, { token, expiresAt: Date.now() + leaseMs });
      acquired.push(key);
      return true;
    },
    async renew(key, token, leaseMs) {
      const lease = leases.get(key);
      if (lease?.token !== token) return false;
      lease.expiresAt = Date.now() + leaseMs;
      return true;
    },
    async release(key, token) {
      if (leases.get(key)?.token === token) leases.delete(key);
    },
  };
  return { leases, acquired, backend };
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

describe('createLeaseScopeLock', () => {
  it('takes free keys in one step when the backend can, and falls back to one by one', async () => {
    const { backend, leases } = sharedLeases();
    const many: string[][] = [];
    const withMany: LeaseLockBackend = {
      ...backend,
      async tryAcquireMany(keys, token, leaseMs) {
        many.push([...keys]);
        const now = Date.now();
        const busy = keys.some((key) => {
          const lease = leases.get(key);
          return lease && lease.token !== token && lease.expiresAt > now;
        });
        if (busy) return false;
        for (const key of keys) leases.set(key, { token, expiresAt: now + leaseMs });
        return true;
      },
    };
    const lock = createLeaseScopeLock({ provider: 'test', backend: withMany });
    const single: string[] = [];
    const counting: LeaseLockBackend = {
      ...withMany,
      async tryAcquire(key, token, leaseMs) {
        single.push(key);
        return backend.tryAcquire(key, token, leaseMs);
      },
    };
    expect(await lock.withLocks({ keys: ['b', 'a', 'c'] }, async () => [...leases.keys()])).toEqual(
      ['a', 'b', 'c'],
    );
    expect(many).toEqual([['a', 'b', 'c']]);
    expect(leases.size).toBe(0);

    // One key held elsewhere: nothing is kept from the failed attempt; the keys come one by one.
    await backend.tryAcquire('b', 'someone-else', 80);
    const patient = createLeaseScopeLock({ provider: 'test', backend: counting });
    expect(await patient.withLocks({ keys: ['c', 'b', 'a'] }, async () => 'ran')).toBe('ran');
    expect(single[0]).toBe('a');
    expect(single).toContain('b');
    expect(leases.size).toBe(0);
  });

  it('lets one holder at a time run under a key, across lock instances sharing a backend', async () => {
    const { backend } = sharedLeases();
    const locks = [0, 1, 2].map(() => createLeaseScopeLock({ provider: 'test', backend }));
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        locks[index % 3]!.withLocks({ keys: ['p|u:alice|a:|r:'] }, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('runs holders of different keys at the same time', async () => {
    const { backend } = sharedLeases();
    const lock = createLeaseScopeLock({ provider: 'test', backend });
    let inside = 0;
    let most = 0;
    await Promise.all(
      ['a', 'b', 'c'].map((key) =>
        lock.withLocks({ keys: [key] }, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(20);
          inside--;
        }),
      ),
    );
    expect(most).toBe(3);
  });

  it('takes keys in sorted order and releases every one, however the work ends', async () => {
    const { backend, acquired, leases } = sharedLeases();
    const lock = createLeaseScopeLock({ provider: 'test', backend });
    await expect(
      lock.withLocks({ keys: ['c', 'a', 'b', 'a'] }, async () => {
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(acquired).toEqual(['a', 'b', 'c']);
    expect(leases.size).toBe(0);
  });

  it('takes over the key of a holder that crashed once its lease expires', async () => {
    const { backend } = sharedLeases();
    await backend.tryAcquire('k', 'crashed-holder', 150);
    const lock = createLeaseScopeLock({ provider: 'test', backend });
    const started = Date.now();
    await lock.withLocks({ keys: ['k'] }, async () => {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('keeps a lease alive while the work runs longer than the lease', async () => {
    const { backend } = sharedLeases();
    const lock = createLeaseScopeLock({ provider: 'test', backend, leaseMs: 150 });
    let otherGotIn = false;
    let attempt: Promise<void> | undefined;
    await lock.withLocks({ keys: ['k'] }, async () => {
      await sleep(100);
      const other = createLeaseScopeLock({ provider: 'test', backend, leaseMs: 150 });
      attempt = other.withLocks({ keys: ['k'] }, async () => {
        otherGotIn = true;
      });
      await sleep(400);
      expect(otherGotIn).toBe(false);
    });
    // Released: the waiting holder gets in at its next retry, however busy the machine is.
    await attempt;
    expect(otherGotIn).toBe(true);
  });

  it('stops waiting when aborted and leaves nothing held', async () => {
    const { backend, leases } = sharedLeases();
    await backend.tryAcquire('b', 'someone-else', 60_000);
    const lock = createLeaseScopeLock({ provider: 'test', backend });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const waiting = lock.withLocks(
      { keys: ['a', 'b'], abortSignal: controller.signal },
      async () => 'ran',
    );
    await expect(waiting).rejects.toSatisfy(AbortedError.isInstance);
    expect([...leases.keys()]).toEqual(['b']);
  });

  it('reports a lease taken over while the work ran', async () => {
    const { backend, leases } = sharedLeases();
    const lock = createLeaseScopeLock({ provider: 'test', backend, leaseMs: 30 });
    const done = lock.withLocks({ keys: ['k'] }, async () => {
      leases.set('k', { token: 'thief', expiresAt: Date.now() + 60_000 });
      await sleep(60);
      return 'written';
    });
    await expect(done).rejects.toSatisfy(AdapterCallError.isInstance);
    expect(leases.get('k')?.token).toBe('thief');
  });

  it('refuses work once closed', async () => {
    const lock = createLeaseScopeLock({ provider: 'test', backend: sharedLeases().backend });
    await lock.close();
    await lock.close();
    await expect(lock.withLocks({ keys: ['k'] }, async () => 1)).rejects.toSatisfy(
      ClosedError.isInstance,
    );
  });
});

/** A model that extracts one fact per message and adds whatever is not stored yet. */
function slowModel() {
  return createScriptedLLM({
    fallback: async (options: LLMGenerateOptions) => {
      await sleep(20);
      if (isExtractionRequest(options)) return { facts: ['Likes green tea'] };
      return { memory: [{ event: 'NONE', id: '0', text: '' }] };
    },
  });
}

/** The reference store with a network's delay on answers, as a shared database would have. */
function remoteStore() {
  const store = createInMemoryStore();
  return {
    ...store,
    query: async (options: Parameters<typeof store.query>[0]) => {
      const matches = await store.query(options);
      await sleep(10);
      return matches;
    },
  };
}

function recordingLock(provider: string) {
  const keys: string[][] = [];
  let closed = 0;
  const lock: ScopeLock = {
    specificationVersion: 'v1',
    provider,
    async withLocks(options, work) {
      keys.push(options.keys);
      return work();
    },
    async close() {
      closed++;
    },
  };
  return { lock, keys, closed: () => closed };
}

describe('Memory with a scope lock', () => {
  it('stores a fact once when two Memories on one store (two processes) add it at the same time', async () => {
    const store = remoteStore();
    const { backend } = sharedLeases();
    const memories = [0, 1, 2, 3].map(
      () =>
        new Memory({
          vectorStore: store,
          embedder: createHashEmbedder(),
          llm: slowModel(),
          graphStore: null,
          scopeLock: createLeaseScopeLock({ provider: 'test', backend }),
        }),
    );
    await Promise.all(
      memories.map((memory) => memory.add('I like green tea', { userId: 'alice' })),
    );
    const listed = await memories[0]!.list({ userId: 'alice' });
    expect(listed.results.map((item) => item.memory)).toEqual(['Likes green tea']);
  });

  it("holds the option's lock, else the store's own, under `<namespace>|<scopeKey>` keys", async () => {
    const given = recordingLock('given');
    const own = recordingLock('own');
    const storeWithLock = () => Object.assign(createInMemoryStore(), { scopeLock: own.lock });
    const common = { embedder: createHashEmbedder(), llm: null, graphStore: null };
    const withOption = new Memory({
      ...common,
      vectorStore: storeWithLock(),
      scopeLock: given.lock,
      collection: 'p_one',
    });
    // A verbatim add with an idempotency key looks the key up under the lock; without one it
    // takes none (it reads nothing another add could change).
    await withOption.add('hello', { userId: 'alice', idempotencyKey: 'first' });
    await withOption.add('hello again', { userId: 'alice' });
    await withOption.import([
      { text: 'a', userId: 'bob' },
      { text: 'b', agentId: 'x' },
    ]);
    expect(given.keys).toEqual([
      [scopeLockKey('p_one', { userId: 'alice' })],
      ['p_one|u:bob|a:|r:', 'p_one|u:|a:x|r:'],
    ]);
    expect(given.keys[0]).toEqual(['p_one|u:alice|a:|r:']);
    await withOption.close();
    expect(given.closed()).toBe(1);

    const store = storeWithLock();
    const withStoreLock = new Memory({ ...common, vectorStore: store, collection: 'p_two' });
    await withStoreLock.add('hello', { userId: 'alice', idempotencyKey: 'first' });
    expect(own.keys).toEqual([['p_two|u:alice|a:|r:']]);

    const inProcessOnly = new Memory({ ...common, vectorStore: store, scopeLock: null });
    await inProcessOnly.add('hello', { userId: 'alice', idempotencyKey: 'second' });
    expect(own.keys).toHaveLength(1);
    expect(own.closed()).toBe(0);
  });

  it('stores every one of many concurrent verbatim adds of one scope, without the lock', async () => {
    const lock = recordingLock('unused');
    const memory = new Memory({
      embedder: createHashEmbedder(),
      llm: null,
      graphStore: null,
      vectorStore: createInMemoryStore(),
      scopeLock: lock.lock,
    });
    const texts = Array.from({ length: 20 }, (_, index) => `fact number ${index}`);
    await Promise.all(texts.map((text) => memory.add(text, { userId: 'alice', infer: false })));
    const listed = await memory.list({ userId: 'alice', limit: 100 });
    expect(listed.results.map((item) => item.memory).sort()).toEqual([...texts].sort());
    const history = await Promise.all(listed.results.map((item) => memory.history(item.id)));
    expect(history.map((events) => events.length)).toEqual(texts.map(() => 1));
    expect(lock.keys).toEqual([]);
  });

  it('extracts before taking the lock and holds it only for the reconcile-and-write step', async () => {
    const events: string[] = [];
    const lock: ScopeLock = {
      specificationVersion: 'v1',
      provider: 'test',
      async withLocks(_options, work) {
        events.push('lock');
        try {
          return await work();
        } finally {
          events.push('unlock');
        }
      },
      async close() {},
    };
    const llm = createScriptedLLM({
      fallback: (options: LLMGenerateOptions) => {
        events.push(isExtractionRequest(options) ? 'extract' : 'reconcile');
        return isExtractionRequest(options)
          ? { facts: ['Likes tea'] }
          : { memory: [{ event: 'NONE', id: '0', text: '' }] };
      },
    });
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm,
      graphStore: null,
      scopeLock: lock,
    });
    await memory.add('I like tea', { userId: 'alice' });
    await memory.add('I like tea', { userId: 'alice' });
    expect(events).toEqual(['extract', 'lock', 'unlock', 'extract', 'lock', 'reconcile', 'unlock']);
  });
});
