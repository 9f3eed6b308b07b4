import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHashEmbedder } from './hash-embedder.js';
import {
  type HistoryArchiveDestination,
  historyArchiveName,
  readHistoryArchive,
  readHistoryArchiveManifest,
} from './history-archive.js';
import type { HistoryEvent } from './history-store.js';
import { createInMemoryStore } from './in-memory-vector-store.js';
import { Memory } from './memory.js';
import { BackupIntegrityError, createDirectoryBackupTarget } from './project-backup.js';

const day = 24 * 60 * 60 * 1000;

describe('history archival', () => {
  let directory: string;
  let destination: HistoryArchiveDestination;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'engram-history-archive-'));
    destination = {
      location: directory,
      target: (name) => createDirectoryBackupTarget(join(directory, name)),
    };
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function clocked() {
    let time = Date.parse('2025-01-01T00:00:00.000Z');
    const store = createInMemoryStore();
    const memory = new Memory({
      vectorStore: store,
      embedder: createHashEmbedder(),
      llm: null,
      now: () => new Date(time),
    });
    return { memory, advance: (days: number) => (time += days * day) };
  }

  async function archived(name: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    for await (const event of readHistoryArchive(
      createDirectoryBackupTarget(join(directory, name)),
    ))
      events.push(event);
    return events;
  }

  it('archives the events it erases, with a manifest, and only those', async () => {
    const { memory, advance } = clocked();
    const [old] = (await memory.add('old fact', { userId: 'alice' })).results;
    await memory.add('bob fact', { userId: 'bob' });
    await memory.delete(old!.id);
    advance(50);
    await memory.add('recent fact', { userId: 'alice' });
    advance(45);
    const { erased, archive } = await memory.pruneHistory({
      olderThan: '90d',
      archive: destination,
    });
    expect(erased).toBe(3);
    expect(archive).toMatchObject({
      format: 'engram-history-archive',
      counts: { events: 3 },
      range: { from: '2025-01-01T00:00:00.000Z' },
    });
    const name = historyArchiveName(archive!.range.before);
    const events = await archived(name);
    expect(events.map((event) => [event.event, event.newText ?? event.previousText])).toEqual([
      ['ADD', 'old fact'],
      ['ADD', 'bob fact'],
      ['DELETE', 'old fact'],
    ]);
    expect((await memory.history(old!.id)).every((event) => event.newText === null)).toBe(true);
    // Nothing left to archive: no new archive, nothing erased.
    advance(1);
    expect(await memory.pruneHistory({ olderThan: '90d', archive: destination })).toEqual({
      erased: 0,
    });
  });

  it('a run repeated with the same cutoff (after a crash before erasing) rewrites the same archive', async () => {
    const { memory, advance } = clocked();
    await memory.add('a fact', { userId: 'alice' });
    advance(100);
    const before = new Date(Date.parse('2025-01-01T00:00:00.000Z') + 10 * day).toISOString();
    const first = await memory.pruneHistory({ before, archive: destination });
    const second = await memory.pruneHistory({ before, archive: destination });
    expect(first.archive?.counts.events).toBe(1);
    expect(second).toEqual({ erased: 0 });
    expect(await archived(historyArchiveName(before))).toHaveLength(1);
  });

  it('erases nothing when the archive cannot be written, and refuses a damaged archive', async () => {
    const { memory, advance } = clocked();
    const [added] = (await memory.add('a fact', { userId: 'alice' })).results;
    advance(100);
    const failing: HistoryArchiveDestination = {
      location: 'nowhere',
      target: () => ({
        location: 'nowhere',
        write: async () => {
          throw new Error('storage down');
        },
        read: async () => new Uint8Array(),
      }),
    };
    await expect(memory.pruneHistory({ olderThan: '90d', archive: failing })).rejects.toThrow(
      'storage down',
    );
    expect((await memory.history(added!.id))[0]!.newText).toBe('a fact');
    const { archive } = await memory.pruneHistory({ olderThan: '90d', archive: destination });
    const name = historyArchiveName(archive!.range.before);
    const manifest = await readHistoryArchiveManifest(
      createDirectoryBackupTarget(join(directory, name)),
    );
    await writeFile(join(directory, name, manifest.parts[0]!.name), 'damaged');
    const error = await archived(name).catch((caught: unknown) => caught);
    expect(BackupIntegrityError.isInstance(error), String(error)).toBe(true);
  });
});
