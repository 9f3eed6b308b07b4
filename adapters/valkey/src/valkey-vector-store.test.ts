// NOT a real server: a recording stand-in for a GLIDE client checks the commands the store sends
// to valkey-search. The real-server suite is test/valkey.conformance.test.ts.
import {
  AdapterCallError,
  ClosedError,
  InvalidArgumentError,
  UnsupportedFunctionalityError,
} from '@engram/core';
import { hex } from '@engram/redis-compatible';
import { describe, expect, it } from 'vitest';
import { parseValkeyUrl, type ValkeyGlideClient } from './valkey-connection.js';
import { createValkeyVectorStore } from './valkey-vector-store.js';

type Command = (string | Buffer)[];

function recordingClient(reply: (command: Command) => unknown) {
  const commands: Command[] = [];
  const client = {
    async customCommand(args: Command) {
      commands.push(args);
      const answer = reply(args);
      if (answer instanceof Error) throw answer;
      return answer;
    },
    async exec() {
      return [];
    },
    close() {},
  };
  return { client: client as unknown as ValkeyGlideClient, commands };
}

const indexInfo = ['index_name', 'x', 'attributes', [['identifier', 'vector', 'dim', '3']]];

describe('createValkeyVectorStore', () => {
  it('does no I/O until the first call and declares what valkey-search answers exactly', () => {
    const store = createValkeyVectorStore({ url: 'valkey://127.0.0.1:1' });
    expect(store.provider).toBe('valkey');
    expect(store.capabilities).toMatchObject({ keywordSearch: false, metric: 'cosine' });
    expect([...store.capabilities.filterOperators].sort()).toEqual(
      ['and', 'eq', 'exists', 'in', 'ne', 'nin', 'not', 'or'].sort(),
    );
    expect(store.commit).toBeUndefined();
  });

  it('creates an index of vector and TAG fields only (no TEXT fields)', async () => {
    let created = false;
    const { client, commands } = recordingClient((command) => {
      if (command[0] === 'FT.INFO') {
        return created ? indexInfo : new Error('Index with name engram:idx:m not found');
      }
      if (command[0] === 'FT.CREATE') created = true;
      return 'OK';
    });
    const store = createValkeyVectorStore({ client });
    await store.ensureCollection({ collection: 'm', dimensions: 3 });
    const create = commands.find((command) => command[0] === 'FT.CREATE')!.map(String);
    expect(create.slice(0, 7)).toEqual([
      'FT.CREATE',
      'engram:idx:m',
      'ON',
      'HASH',
      'PREFIX',
      '1',
      'engram:m:',
    ]);
    expect(create).toContain('VECTOR');
    expect(create).toContain('COSINE');
    expect(create).not.toContain('TEXT');
    await store.close();
  });

  it('runs a KNN search with the scope and filter inside the query', async () => {
    const { client, commands } = recordingClient((command) =>
      command[0] === 'FT.INFO' ? indexInfo : [0],
    );
    const store = createValkeyVectorStore({ client });
    await store.query({
      collection: 'm',
      vector: [1, 0, 0],
      topK: 5,
      scope: { userId: 'alice' },
      filter: { op: 'eq', field: 'kind', value: 'note' },
    });
    const search = commands.find((command) => command[0] === 'FT.SEARCH')!;
    expect(String(search[2])).toBe(
      `((@tag_userId:{${hex('alice')}} @m_values:{${hex('kind')}zs${hex('note')}}))=>[KNN $k @vector $blob EF_RUNTIME 50 AS __distance]`,
    );
    expect(search).toContain('DIALECT');
    await store.close();
  });

  it('refuses ranges, substring contains and keyword queries before sending anything', async () => {
    const { client, commands } = recordingClient((command) =>
      command[0] === 'FT.INFO' ? indexInfo : [0],
    );
    const store = createValkeyVectorStore({ client });
    await expect(
      store.count({ collection: 'm', filter: { op: 'gt', field: 'n', value: 1 } }),
    ).rejects.toSatisfy(UnsupportedFunctionalityError.isInstance);
    await expect(
      store.list({ collection: 'm', limit: 5, filter: { op: 'contains', field: 's', value: 'x' } }),
    ).rejects.toSatisfy(UnsupportedFunctionalityError.isInstance);
    await expect(store.query({ collection: 'm', text: 'hiking', topK: 3 })).rejects.toSatisfy(
      UnsupportedFunctionalityError.isInstance,
    );
    expect(commands.filter((command) => command[0] !== 'FT.INFO')).toEqual([]);
    await store.close();
  });

  it('says what to do when the server has no search module', async () => {
    const { client } = recordingClient(
      () => new Error("unknown command 'FT.INFO', with args beginning with: 'engram:idx:m'"),
    );
    const store = createValkeyVectorStore({ client });
    const error = await store.count({ collection: 'm' }).catch((caught) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/valkey-search/);
    await store.close();
  });

  it('rejects every call after close(), which is idempotent', async () => {
    const store = createValkeyVectorStore({ url: 'valkey://127.0.0.1:1' });
    await store.close();
    await store.close();
    await expect(store.count({ collection: 'm' })).rejects.toSatisfy(ClosedError.isInstance);
  });
});

describe('parseValkeyUrl', () => {
  it.each([
    ['valkey://localhost', { host: 'localhost', port: 6379, useTLS: false }],
    [
      'rediss://user:p%40ss@cache.example:6380/2',
      {
        host: 'cache.example',
        port: 6380,
        useTLS: true,
        databaseId: 2,
        username: 'user',
        password: 'p@ss',
      },
    ],
  ])('%s', (url, expected) => {
    expect(parseValkeyUrl(url)).toEqual(expected);
  });

  it('rejects other schemes with InvalidArgumentError', () => {
    expect(() => parseValkeyUrl('http://localhost:6379')).toThrow(InvalidArgumentError);
  });
});
