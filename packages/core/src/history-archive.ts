import { EngramError, NotFoundError, UnsupportedFunctionalityError } from './errors.js';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import {
  BackupIntegrityError,
  type BackupPart,
  type BackupTarget,
  coreVersion,
  linesOf,
  PartWriter,
  readPart,
} from './project-backup.js';

/** The version of the history archive format this code writes. */
export const historyArchiveFormatVersion = 1;

/** `manifest.json` of a history archive: written last, after its parts. */
export interface HistoryArchiveManifest {
  /** Always `engram-history-archive`. */
  format: 'engram-history-archive';
  /** Format version; see {@link historyArchiveFormatVersion}. */
  formatVersion: number;
  /** ISO-8601 time the archive was written. */
  createdAt: string;
  /** Version of `@engram/core` that wrote it. */
  engramVersion: string;
  /** The namespace (collection, project) the events belong to. */
  namespace: string;
  /** The time range of the events: the oldest one's time, and the cutoff they are all before. */
  range: { from: string; before: string };
  /** How many events the archive holds. */
  counts: { events: number };
  /** The compressed JSONL parts, each with its size and SHA-256. */
  parts: BackupPart[];
}

/** Where history archives go: one target per archive name (a directory, an object prefix). */
export interface HistoryArchiveDestination {
  /** Where they are, for messages. */
  readonly location: string;
  /** The target of one archive. */
  target(name: string): BackupTarget;
}

/** Options of {@link archiveHistoryTexts}. */
export interface ArchiveHistoryOptions {
  /** Where the archive is written. */
  destination: HistoryArchiveDestination;
  /** Archive the events created before this ISO-8601 time that still hold a text. */
  before: string;
  /** Events read per call. Default 1,000. */
  pageSize?: number;
  /** Uncompressed bytes per part. Default 8 MiB. */
  partBytes?: number;
  /** Cancels the archive (no manifest is written). */
  abortSignal?: AbortSignal;
}

const manifestName = 'manifest.json';

/** The name of the archive of the events before `before`: `until-2026-12-06T14-00-00-000Z`. */
export function historyArchiveName(before: string): string {
  return `until-${new Date(before).toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * Writes the events of a namespace that are older than `before` and still hold a text into one
 * archive (compressed JSONL parts, then a manifest with counts, range and checksums), then reads
 * it back and checks it. Answers its manifest, or undefined when there was nothing to archive.
 * The archive's name depends only on `before`, so a run repeated with the same cutoff rewrites
 * the same archive.
 */
export async function archiveHistoryTexts(
  history: HistoryStore,
  namespace: string,
  options: ArchiveHistoryOptions,
): Promise<HistoryArchiveManifest | undefined> {
  if (!history.listTexts) {
    throw new UnsupportedFunctionalityError({
      source: 'history',
      message: `The history store "${history.provider}" cannot list events by time, so its events cannot be archived; keep history in sqlite or pgvector, or leave archiving off.`,
    });
  }
  const before = new Date(options.before).toISOString();
  const target = options.destination.target(historyArchiveName(before));
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const parts: BackupPart[] = [];
  const writer = new PartWriter(
    'history',
    {
      target,
      ...(options.partBytes === undefined ? {} : { partBytes: options.partBytes }),
      ...signal,
    },
    parts,
  );
  let from: string | undefined;
  let events = 0;
  let cursor: string | undefined;
  do {
    const page = await history.listTexts({
      namespace,
      before,
      limit: options.pageSize ?? 1000,
      ...(cursor ? { cursor } : {}),
      ...signal,
    });
    for (const event of page.events) {
      if (from === undefined || event.createdAt < from) from = event.createdAt;
      await writer.add(event);
      events += 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  if (events === 0) return undefined;
  await writer.flush();
  const manifest: HistoryArchiveManifest = {
    format: 'engram-history-archive',
    formatVersion: historyArchiveFormatVersion,
    createdAt: new Date().toISOString(),
    engramVersion: coreVersion(),
    namespace,
    range: { from: from!, before },
    counts: { events },
    parts,
  };
  await target.write(
    manifestName,
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'),
    options.abortSignal,
  );
  // Only what reads back whole may be erased from the store.
  const written = await readHistoryArchiveManifest(target, options.abortSignal);
  let readBack = 0;
  for (const part of written.parts) {
    for (const _ of linesOf(await readPart(target, part, options.abortSignal))) readBack += 1;
  }
  if (readBack !== events) {
    throw new BackupIntegrityError({
      source: 'history',
      message: `The history archive at ${target.location} reads back ${readBack} events of ${events} written; nothing was erased. Check the storage and run the job again.`,
    });
  }
  return manifest;
}

/** Reads and checks the manifest of a history archive. */
export async function readHistoryArchiveManifest(
  source: BackupTarget,
  abortSignal?: AbortSignal,
): Promise<HistoryArchiveManifest> {
  let manifest: HistoryArchiveManifest;
  try {
    manifest = JSON.parse(
      Buffer.from(await source.read(manifestName, abortSignal)).toString('utf8'),
    ) as HistoryArchiveManifest;
  } catch (error) {
    if (EngramError.isInstance(error) && !NotFoundError.isInstance(error)) throw error;
    throw new BackupIntegrityError({
      source: 'history',
      message: `${source.location} has no readable ${manifestName}: the archive is incomplete (interrupted?) or not an engram history archive.`,
      cause: error,
    });
  }
  if (manifest?.format !== 'engram-history-archive' || !Array.isArray(manifest.parts)) {
    throw new BackupIntegrityError({
      source: 'history',
      message: `${source.location}/${manifestName} is not an engram history archive manifest.`,
    });
  }
  if (!(manifest.formatVersion <= historyArchiveFormatVersion)) {
    throw new BackupIntegrityError({
      source: 'history',
      message: `${source.location} is in history archive format ${manifest.formatVersion}; this engram reads up to ${historyArchiveFormatVersion}. Upgrade engram to read it.`,
    });
  }
  return manifest;
}

/** The events of one history archive, part by part, each part checked against its checksum. */
export async function* readHistoryArchive(
  source: BackupTarget,
  abortSignal?: AbortSignal,
): AsyncGenerator<HistoryEvent> {
  const manifest = await readHistoryArchiveManifest(source, abortSignal);
  for (const part of manifest.parts) {
    for (const line of linesOf(await readPart(source, part, abortSignal))) {
      yield line as HistoryEvent;
    }
  }
}
