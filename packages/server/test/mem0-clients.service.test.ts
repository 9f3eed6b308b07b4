import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { extractionSchemaName } from '@engram/core';
import { type FakeChatRequest, type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import type { MemoryClient as MemoryClientType } from 'mem0ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePythonMem0, pythonMem0Version } from './python-mem0.js';
import {
  createKey,
  type EngramServer,
  eventually,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// mem0's clients report usage to a third party unless told not to; read when they load.
process.env.MEM0_TELEMETRY = 'false';
const { MemoryClient, AuthenticationError, MemoryNotFoundError, ValidationError } = await import(
  'mem0ai'
);

/** Extraction: each user line becomes the fact "Fact: <line>". Reconciliation: new facts are added. */
function chat(request: FakeChatRequest): unknown {
  const format = request.responseFormat as { json_schema?: { name?: string } } | undefined;
  const content = String(request.messages.at(-1)?.content ?? '');
  if (format?.json_schema?.name === extractionSchemaName) {
    return { facts: [...content.matchAll(/^user: (.*)$/gm)].map((match) => `Fact: ${match[1]}`) };
  }
  const [, facts] = /\n\nNew facts:\n(.*)$/s.exec(content) ?? [];
  return {
    memory: (JSON.parse(facts ?? '[]') as string[]).map((text) => ({ event: 'ADD', id: '', text })),
  };
}

let fake: FakeOpenAIServer;
let dataDir: { path: string; dispose(): Promise<void> };
let server: EngramServer;
let alpha: { key: string };
let beta: { key: string };

beforeAll(async () => {
  fake = await startFakeOpenAI({ chat });
  dataDir = await temporaryDataDir();
  alpha = createKey(dataDir.path, 'alpha');
  beta = createKey(dataDir.path, 'beta');
  server = await startEngramServer(dataDir.path, {
    env: {
      ENGRAM_LLM: 'openai:gpt-4.1-mini',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.url,
      ENGRAM_RATE_LIMIT_RPS: '100000',
      ENGRAM_RATE_LIMIT_BURST: '100000',
    },
  });
});

afterAll(async () => {
  await server?.stop();
  await dataDir?.dispose();
  await fake?.close();
});

interface PlatformMemory {
  id: string;
  memory: string;
  userId: string | null;
  metadata: Record<string, unknown>;
}

describe('npm mem0ai MemoryClient against engram serve', () => {
  let client: MemoryClientType;
  const ids: Record<string, string> = {};

  beforeAll(() => {
    client = new MemoryClient({ apiKey: alpha.key, host: server.url });
  });

  it('pings with "Token <key>" and learns the project', async () => {
    await client.ping();
    expect((client as unknown as { projectId: string }).projectId).toBe('alpha');
    const wrong = new MemoryClient({ apiKey: 'engram_k_000000000000_wrong', host: server.url });
    await expect(wrong.getAll({ filters: { user_id: 'x' } })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });

  it('adds without inference at once, and queues an inferred add as a PENDING event', async () => {
    const added = (await client.add([{ role: 'user', content: 'I love green tea' }], {
      userId: 'js-alice',
      metadata: { topic: 'drinks' },
      infer: false,
    })) as unknown as { status: string; results: Array<{ id: string; event: string }> };
    expect(added.status).toBe('SUCCEEDED');
    expect(added.results[0]!.event).toBe('ADD');
    ids.tea = added.results[0]!.id;

    const queued = (await client.add([{ role: 'user', content: 'I play chess on Sundays' }], {
      userId: 'js-alice',
      appId: 'games',
    })) as unknown as { status: string; eventId: string };
    expect(queued.status).toBe('PENDING');
    const event = await eventually(async () => {
      const answer = await server.request(`/v1/event/${queued.eventId}/`, {
        headers: { Authorization: `Token ${alpha.key}` },
      });
      const body = answer.body as {
        status: string;
        results: Array<{ id: string; data: { memory: string } }>;
      };
      return body.status === 'SUCCEEDED' || body.status === 'FAILED' ? body : undefined;
    });
    expect(event.status).toBe('SUCCEEDED');
    expect(event.results.map((change) => change.data.memory)).toEqual([
      'Fact: I play chess on Sundays',
    ]);
    ids.chess = event.results[0]!.id;
    const other = await server.request(`/v1/event/${queued.eventId}/`, {
      headers: { Authorization: `Token ${beta.key}` },
    });
    expect(other.status).toBe(404);
  });

  it('searches with entity ids and metadata in filters', async () => {
    const found = await client.search('green tea', {
      filters: { AND: [{ user_id: 'js-alice' }, { metadata: { topic: 'drinks' } }] },
      topK: 3,
    });
    expect(found.results.map((item) => item.id)).toEqual([ids.tea]);
    expect(found.results[0]!.userId).toBe('js-alice');
    expect(typeof found.results[0]!.score).toBe('number');
    const games = await client.search('weekend', {
      filters: { user_id: 'js-alice', app_id: 'games' },
    });
    expect(games.results.map((item) => item.id)).toEqual([ids.chess]);
    expect(games.results[0]!.appId).toBe('games');
    await expect(
      client.search('tea', { filters: { OR: [{ user_id: 'js-alice' }, { user_id: 'bob' }] } }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('lists page by page with a total count', async () => {
    const first = await client.getAll({ filters: { user_id: 'js-alice' }, page: 1, pageSize: 1 });
    expect(first.count).toBe(2);
    expect(first.results).toHaveLength(1);
    expect(first.next).toContain('page=2');
    const second = await client.getAll({ filters: { user_id: 'js-alice' }, page: 2, pageSize: 1 });
    expect(second.next).toBeNull();
    expect([first.results[0]!.id, second.results[0]!.id].sort()).toEqual(
      [ids.tea, ids.chess].sort(),
    );
  });

  it('gets, updates and shows history; another project gets a 404', async () => {
    const memory = (await client.get(ids.tea!)) as unknown as PlatformMemory;
    expect(memory.memory).toBe('I love green tea');
    const updated = (await client.update(ids.tea!, {
      text: 'I love matcha',
      metadata: { checked: true },
    })) as unknown as PlatformMemory;
    expect(updated.metadata).toEqual({ topic: 'drinks', checked: true });
    const history = await client.history(ids.tea!);
    expect(history.map((event) => [event.event, event.oldMemory, event.newMemory])).toEqual([
      ['ADD', null, 'I love green tea'],
      ['UPDATE', 'I love green tea', 'I love matcha'],
    ]);
    const other = new MemoryClient({ apiKey: beta.key, host: server.url });
    await expect(other.get(ids.tea!)).rejects.toBeInstanceOf(MemoryNotFoundError);
  });

  it('updates and deletes in batches, deletes one and deletes all', async () => {
    await client.batchUpdate([{ memoryId: ids.chess!, text: 'Plays chess on Sundays' }]);
    expect(((await client.get(ids.chess!)) as unknown as PlatformMemory).memory).toBe(
      'Plays chess on Sundays',
    );
    await client.batchDelete([ids.chess!]);
    await expect(client.get(ids.chess!)).rejects.toBeInstanceOf(MemoryNotFoundError);
    expect(await client.delete(ids.tea!)).toEqual({ message: 'Memory deleted successfully!' });
    await client.add([{ role: 'user', content: 'one more' }], { userId: 'js-alice', infer: false });
    await client.deleteAll({ userId: 'js-alice' });
    expect((await client.getAll({ filters: { user_id: 'js-alice' } })).count).toBe(0);
  });

  it('answers 501 naming a platform route Engram does not implement', async () => {
    const error = await client.getWebhooks({ projectId: 'alpha' }).catch((caught) => caught);
    expect((error as Error).message).toContain('/api/v1/webhooks/projects/alpha/');
    expect((error as { errorCode: string }).errorCode).toBe('HTTP_501');
  });
});

const pythonSteps = [
  'ping',
  'add without inference',
  'add queued, then its event polled',
  'search with filters',
  'unsupported filter operator is a 400 naming it',
  'list page by page',
  'get, update and history',
  "another project's key sees nothing",
  'batch update and batch delete',
  'delete one, then delete all',
  'a platform route Engram lacks answers 501 naming it',
];

describe(`PyPI mem0ai ${pythonMem0Version} MemoryClient against engram serve`, () => {
  const outcomes = new Map<string, { ok: boolean; error?: string }>();

  beforeAll(async () => {
    const python = await ensurePythonMem0();
    const script = fileURLToPath(new URL('./mem0_platform_client.py', import.meta.url));
    const child = spawn(python, [script, server.url, alpha.key, beta.key], {
      env: { ...process.env, MEM0_TELEMETRY: 'false', MEM0_DIR: dataDir.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    for (const line of output.split('\n').filter(Boolean)) {
      const outcome = JSON.parse(line) as { step: string; ok: boolean; error?: string };
      outcomes.set(outcome.step, outcome);
    }
    if (code !== 0) throw new Error(`the Python client exited with ${code}:\n${errors}`);
  }, 600_000);

  it.each(pythonSteps)('%s', (step) => {
    const outcome = outcomes.get(step);
    expect(outcome, `no outcome for "${step}"`).toBeDefined();
    expect(outcome!.error ?? '').toBe('');
    expect(outcome!.ok).toBe(true);
  });
});
