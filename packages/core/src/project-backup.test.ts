import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbedderMismatchError, InvalidArgumentError } from './errors.js';
import type { GraphEntity } from './graph-store.js';
import { createHashEmbedder } from './hash-embedder.js';
import { createInMemoryGraphStore } from './in-memory-graph-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import {
  BackupIntegrityError,
  type BackupManifest,
  createDirectoryBackupTarget,
} from './project-backup.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'engram-backup-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function open(embedder = createHashEmbedder()) {
  const store = createInMemoryStore();
  const graphStore = createInMemoryGraphStore();
  const memory = new Memory({ vectorStore: store, graphStore, embedder, llm: null });
  return { store, graphStore, memory };
}

async function exportText(memory: Memory): Promise<string> {
  let text = '';
  for await (const item of memory.exportAll()) text += `${JSON.stringify(item)}\n`;
  return text;
}

function entity(id: string, name: string): GraphEntity {
  const now = '2030-01-01T00:00:00.000Z';
  return {
    id,
    name,
    type: 'thing',
    embedding: Array.from({ length: 384 }, (_, index) => (index === name.length ? 1 : 0)),
    namespace: 'memories',
    userId: 'u0',
    mentions: 1,
    createdAt: now,
    updatedAt: now,
  };
}

/** Memories in several scopes (some with metadata, expiry, updates and deletions) and a graph. */
async function populate(memory: Memory, graphStore: ReturnType<typeof createInMemoryGraphStore>) {
  const items = Array.from({ length: 240 }, (_, index) => ({
    text: `memory ${index} about ${index % 7 === 0 ? '東京の天気' : 'tea and trains'}`,
    userId: `u${index % 5}`,
    ...(index % 3 === 0 ? { agentId: 'travel' } : {}),
    metadata: { index, tags: ['a', String(index)] },
    ...(index % 11 === 0 ? { expiresAt: '2999-01-01T00:00:00.000Z' } : {}),
  }));
  await memory.import(items);
  const first = (await memory.list({ userId: 'u1', limit: 2 })).results;
  await memory.update(first[0]!.id, { text: 'changed text' });
  await memory.delete(first[1]!.id);
  await graphStore.upsertEntities({ entities: [entity('e1', 'alice'), entity('e2', 'acme')] });
  await graphStore.upsertRelations({
    relations: [
      {
        id: 'r1',
        sourceId: 'e1',
        relationship: 'works_at',
        destinationId: 'e2',
        namespace: 'memories',
        userId: 'u0',
        mentions: 1,
        createdAt: '2030-01-01T00:00:00.000Z',
        updatedAt: '2030-01-01T00:00:00.000Z',
        invalidatedAt: null,
      },
    ],
  });
}

describe('backup and restore', () => {
  it('restores into an empty store an export identical to the one before, with history and graph', async () => {
    const source = open();
    await populate(source.memory, source.graphStore);
    const before = await exportText(source.memory);
    const progress: string[] = [];
    const manifest = await source.memory.backup({
      target: createDirectoryBackupTarget(directory),
      partBytes: 16 * 1024,
      onProgress: (step) => progress.push(step.phase),
    });
    expect(manifest.counts).toMatchObject({ memories: 239, scopes: 10, entities: 2, relations: 1 });
    expect(manifest.counts.historyEvents).toBe(242);
    expect(manifest.parts.filter((part) => part.kind === 'memories').length).toBeGreaterThan(1);
    expect(progress).toContain('history');
    const written = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8'));
    expect(written).toEqual(manifest);

    const target = open();
    const summary = await target.memory.restore({
      source: createDirectoryBackupTarget(directory),
      intoEmptyOnly: true,
    });
    expect(summary).toMatchObject({ memories: 239, historyEvents: 242, graph: 3 });
    expect(await exportText(target.memory)).toBe(before);
    const someId = JSON.parse(before.split('\n')[0]!).id as string;
    expect(await target.memory.history(someId)).toEqual(await source.memory.history(someId));
    const relations = (await target.memory.list({ userId: 'u0' })).relations;
    expect(relations?.map((relation) => relation.relationship)).toEqual(['works_at']);
    const search = await target.memory.search('東京', { userId: 'u0', threshold: 0 });
    expect(search.results.length).toBeGreaterThan(0);
  });

  it('refuses a damaged part, another embedder and a non-empty store when asked', async () => {
    const source = open();
    await populate(source.memory, source.graphStore);
    const manifest: BackupManifest = await source.memory.backup({
      target: createDirectoryBackupTarget(directory),
    });

    const other = open(createHashEmbedder({ dimensions: 64 }));
    await expect(
      other.memory.restore({ source: createDirectoryBackupTarget(directory) }),
    ).rejects.toSatisfy(EmbedderMismatchError.isInstance);

    await expect(
      source.memory.restore({
        source: createDirectoryBackupTarget(directory),
        intoEmptyOnly: true,
      }),
    ).rejects.toSatisfy(InvalidArgumentError.isInstance);

    const part = join(directory, manifest.parts[0]!.name);
    const bytes = await readFile(part);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(part, bytes);
    const fresh = open();
    const error = await fresh.memory
      .restore({ source: createDirectoryBackupTarget(directory) })
      .catch((caught: unknown) => caught);
    expect(BackupIntegrityError.isInstance(error)).toBe(true);
    expect(await fresh.store.count({ collection: 'memories' })).toBe(0);

    await rm(join(directory, 'manifest.json'));
    await expect(
      fresh.memory.restore({ source: createDirectoryBackupTarget(directory) }),
    ).rejects.toSatisfy(BackupIntegrityError.isInstance);
  });
});
