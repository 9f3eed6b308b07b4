import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BackupIntegrityError,
  createHashEmbedder,
  createInMemoryStore,
  Memory,
} from '@engram/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupProjects } from '../src/backup-schedule.js';
import { openBackupStorage, openBackupTarget, readArchivedHistory } from '../src/backup-storage.js';
import { pruneProjectHistory } from '../src/history-retention.js';

const launcher = fileURLToPath(
  new URL('../../../conformance/services/seaweedfs/launcher.sh', import.meta.url),
);
const bucket = `engram-test-${Date.now()}`;
const server: { env?: Record<string, string>; skip?: string } = {};

/**
 * The S3 endpoint: ENGRAM_S3_ENDPOINT when set, else a real SeaweedFS started by its launcher
 * (built from the Go module proxy the first time). Under CI a launcher failure fails the tests.
 */
async function provideEndpoint(): Promise<string | undefined> {
  if (process.env.ENGRAM_S3_ENDPOINT) return process.env.ENGRAM_S3_ENDPOINT;
  try {
    const { stdout } = await promisify(execFile)('bash', [launcher, 'start'], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 40 * 60 * 1000,
    });
    return stdout.trim().split('\n').at(-1);
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    server.skip = `no S3 server: ${(error as Error).message.split('\n')[0]}`;
    return undefined;
  }
}

beforeAll(
  async () => {
    const endpoint = await provideEndpoint();
    if (!endpoint) return;
    server.env = {
      ENGRAM_S3_ENDPOINT: endpoint,
      ENGRAM_S3_REGION: 'us-east-1',
      ENGRAM_S3_ACCESS_KEY_ID: process.env.ENGRAM_S3_ACCESS_KEY_ID ?? 'engram',
      ENGRAM_S3_SECRET_ACCESS_KEY: process.env.ENGRAM_S3_SECRET_ACCESS_KEY ?? 'engram-secret',
    };
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: server.env.ENGRAM_S3_ACCESS_KEY_ID!,
        secretAccessKey: server.env.ENGRAM_S3_SECRET_ACCESS_KEY!,
      },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
  },
  45 * 60 * 1000,
);

function memoryOnNewStore(): Memory {
  return new Memory({
    vectorStore: createInMemoryStore(),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
}

async function exportText(memory: Memory): Promise<string> {
  let text = '';
  for await (const item of memory.exportAll()) text += `${JSON.stringify(item)}\n`;
  return text;
}

describe('backups in S3-compatible object storage (a real SeaweedFS server, or ENGRAM_S3_ENDPOINT)', () => {
  it('writes a backup to s3://, restores it into an empty store with the same export, and refuses a damaged one', async (context) => {
    if (!server.env) return context.skip(server.skip ?? 'no S3 server');
    const source = memoryOnNewStore();
    await source.import(
      Array.from({ length: 1200 }, (_, index) => ({
        text: `fact ${index} about trains and tea`,
        userId: `user-${index % 13}`,
        metadata: { index },
        ...(index % 10 === 0 ? { expiresAt: '2999-01-01T00:00:00Z' } : {}),
      })),
    );
    const before = await exportText(source);
    const location = `s3://${bucket}/projects/alpha/one`;
    const manifest = await source.backup({
      target: openBackupTarget(location, server.env),
      partBytes: 64 * 1024,
    });
    expect(manifest.counts.memories).toBe(1200);
    expect(manifest.parts.length).toBeGreaterThan(2);

    const target = memoryOnNewStore();
    const summary = await target.restore({
      source: openBackupTarget(location, server.env),
      intoEmptyOnly: true,
    });
    expect(summary.memories).toBe(1200);
    expect(await exportText(target)).toBe(before);

    const damaged = openBackupTarget(location, server.env);
    await damaged.write(manifest.parts[0]!.name, new Uint8Array([1, 2, 3]));
    const error = await memoryOnNewStore()
      .restore({ source: openBackupTarget(location, server.env) })
      .catch((caught: unknown) => caught);
    expect(BackupIntegrityError.isInstance(error)).toBe(true);
  });

  it('a schedule run keeps the newest backups of each project and deletes older ones', async (context) => {
    if (!server.env) return context.skip(server.skip ?? 'no S3 server');
    const memory = memoryOnNewStore();
    await memory.add('likes green tea', { userId: 'u', infer: false });
    const logger = { error: (...args: unknown[]) => console.error(...args) };
    const context_ = {
      projects: { memory: async () => memory },
      logger,
    } as unknown as Parameters<typeof backupProjects>[0];
    const schedule = { intervalMs: 1000, to: `s3://${bucket}/scheduled`, keep: 2 };
    for (const time of ['2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z', '2030-01-03T00:00:00Z']) {
      const done = await backupProjects(context_, {
        schedule,
        projects: ['alpha'],
        env: server.env,
        now: new Date(time),
      });
      expect(done.alpha?.counts.memories).toBe(1);
    }
    const storage = openBackupStorage(`s3://${bucket}/scheduled/alpha`, server.env);
    expect(await storage.list()).toEqual(['2030-01-02T00-00-00-000Z', '2030-01-03T00-00-00-000Z']);
  });

  it('history retention archives the events to s3:// before erasing their texts, and reads them back', async (context) => {
    if (!server.env) return context.skip(server.skip ?? 'no S3 server');
    let time = Date.parse('2030-01-01T00:00:00Z');
    const memory = new Memory({
      vectorStore: createInMemoryStore(),
      embedder: createHashEmbedder(),
      llm: null,
      graphStore: null,
      now: () => new Date(time),
    });
    const [old] = (await memory.add('likes oolong', { userId: 'u', infer: false })).results;
    await memory.update(old!.id, { text: 'likes oolong and sencha' });
    time += 100 * 24 * 60 * 60 * 1000;
    const archiveTo = `s3://${bucket}/history-archive`;
    const before = '2030-02-01T00:00:00.000Z';
    const result = await pruneProjectHistory(memory, 'alpha', {
      before,
      archiveTo,
      env: server.env,
    });
    expect(result).toMatchObject({ erased: 2, archive: { counts: { events: 2 } } });
    expect((await memory.history(old!.id)).map((event) => event.newText)).toEqual([null, null]);
    // A repeat with the same cutoff (a crash between archive and erase) changes nothing.
    expect(
      await pruneProjectHistory(memory, 'alpha', { before, archiveTo, env: server.env }),
    ).toEqual({
      erased: 0,
    });
    const archived = await readArchivedHistory(`${archiveTo}/alpha`, server.env, {
      memoryId: old!.id,
    });
    expect(archived.map((event) => [event.event, event.newText])).toEqual([
      ['ADD', 'likes oolong'],
      ['UPDATE', 'likes oolong and sencha'],
    ]);
  });
});
