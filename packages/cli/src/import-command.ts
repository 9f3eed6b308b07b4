import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  type ImportItem,
  InvalidArgumentError,
  type JsonValue,
  type Memory,
  normalizeScope,
  type Scope,
} from '@engram/core';
import { escapeForTerminal, type OutputStream } from './format-output.js';
import { plainMessage, usageError } from './parse-options.js';
import { ProgressBar } from './progress-bar.js';

/** Options of {@link importJsonl}. */
export interface ImportJsonlOptions {
  /** Path of the JSONL file, or `-` for standard input. */
  file: string;
  /** Fills the scope fields a line leaves out. */
  scope: Scope;
  /** Run each line through `memory.add` with inference instead of the batched verbatim import. */
  infer: boolean;
  /** Lines per `memory.import` call. */
  batchSize: number;
  /** Receives bad-line reports and, on a terminal, the progress bar. */
  stderr: OutputStream;
  /** Standard input, read when `file` is `-`. */
  stdin?: NodeJS.ReadableStream;
}

/** A line that was skipped. */
export interface SkippedLine {
  /** 1-based line number in the file. */
  line: number;
  /** Why it was skipped. */
  message: string;
}

/** A line whose id an earlier line of the same file had imported: the later one replaced it. */
export interface ReplacedLine {
  /** The memory id both lines name. */
  id: string;
  /** 1-based number of the line that replaced the memory. */
  line: number;
  /** 1-based number of the earlier line whose memory was replaced. */
  replacedLine: number;
}

/** What {@link importJsonl} did. */
export interface ImportSummary {
  /** Lines stored (a line that replaced an earlier line's memory counts too). */
  imported: number;
  /** Lines skipped as invalid. */
  skipped: number;
  /** Each skipped line with its reason. */
  errors: SkippedLine[];
  /** Each line that replaced the memory of an earlier line with the same id. */
  replaced: ReplacedLine[];
}

interface PendingItem {
  line: number;
  item: ImportItem;
}

const scopeKeys = ['userId', 'agentId', 'runId'] as const;

/** Checks one line; returns the item to store or the reason to skip it. */
export function parseImportLine(text: string, defaults: Scope): ImportItem | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { error: `invalid JSON (${(error as Error).message})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { error: 'expected a JSON object like {"text": "...", "userId": "..."}' };
  }
  const record = parsed as Record<string, unknown>;
  if (typeof record.text !== 'string' || record.text.trim().length === 0) {
    return { error: 'missing "text" (a non-empty string)' };
  }
  const metadata = record.metadata;
  if (
    metadata !== undefined &&
    metadata !== null &&
    (typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    return { error: '"metadata" must be a JSON object' };
  }
  const candidate: Scope = { ...defaults };
  for (const key of scopeKeys) {
    if (record[key] !== undefined && record[key] !== null) candidate[key] = record[key] as string;
  }
  let scope: Scope;
  try {
    scope = normalizeScope(candidate, { source: 'cli' });
  } catch (error) {
    return { error: plainMessage(error) };
  }
  if (Object.keys(scope).length === 0) {
    return {
      error: 'no scope: give "userId" (or agentId/runId) in the line, or --user on the command',
    };
  }
  const kept: Pick<ImportItem, 'id' | 'createdAt' | 'updatedAt' | 'expiresAt'> = {};
  for (const key of ['id', 'createdAt', 'updatedAt', 'expiresAt'] as const) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return { error: `"${key}" must be a string` };
    kept[key] = value;
  }
  return {
    ...scope,
    text: record.text,
    ...(metadata ? { metadata: metadata as Record<string, JsonValue> } : {}),
    ...kept,
  };
}

function itemMessage(error: unknown): string {
  return plainMessage(error).replace(/^items\[\d+\][.:]?\s*/, '');
}

/** The import's progress: bytes read of the file's size, when it has one. */
function drawImport(
  progress: ProgressBar,
  bytes: number,
  size: number | undefined,
  summary: ImportSummary,
  force = false,
) {
  const counts = `${summary.imported.toLocaleString('en-US')} imported, ${summary.skipped} skipped`;
  progress.draw(size && size > 0 ? bytes / size : undefined, counts, force);
}

/**
 * Streams a JSONL file into memory, one memory per line. Bad lines are reported with their line
 * number and skipped; a failure of the store or model stops the import and is thrown.
 */
export async function importJsonl(
  memory: Memory,
  options: ImportJsonlOptions,
): Promise<ImportSummary> {
  const fromStdin = options.file === '-';
  let size: number | undefined;
  if (!fromStdin) {
    try {
      const info = await stat(options.file);
      if (!info.isFile()) usageError(`${options.file} is not a file.`);
      size = info.size;
    } catch (error) {
      if (InvalidArgumentError.isInstance(error)) throw error;
      usageError(`Cannot read ${options.file}: ${(error as Error).message}`, error);
    }
  }
  const input = fromStdin ? (options.stdin ?? process.stdin) : createReadStream(options.file);
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const summary: ImportSummary = { imported: 0, skipped: 0, errors: [], replaced: [] };
  // The line that last stored each id the file names.
  const storedIds = new Map<string, number>();
  const progress = new ProgressBar(options.stderr);
  let bytes = 0;

  const skip = (line: number, message: string) => {
    progress.clear();
    summary.skipped += 1;
    summary.errors.push({ line, message });
    options.stderr.write(`line ${line}: ${escapeForTerminal(message)}; skipped\n`);
  };

  const noteStored = (stored: PendingItem[]) => {
    for (const { line, item } of stored) {
      if (item.id === undefined) continue;
      const earlier = storedIds.get(item.id);
      storedIds.set(item.id, line);
      if (earlier === undefined) continue;
      progress.clear();
      summary.replaced.push({ id: item.id, line, replacedLine: earlier });
      options.stderr.write(
        `warning: line ${line}: id ${escapeForTerminal(JSON.stringify(item.id))} replaces the memory of line ${earlier}\n`,
      );
    }
  };

  const storeBatch = async (batch: PendingItem[]) => {
    try {
      const result = await memory.import(batch.map((pending) => pending.item));
      summary.imported += result.results.length;
      noteStored(batch);
      return;
    } catch (error) {
      if (!InvalidArgumentError.isInstance(error)) throw error;
      if (batch.length === 1) {
        skip(batch[0]!.line, itemMessage(error));
        return;
      }
    }
    // The engine rejected something in the batch (e.g. a text over its length limit): store the
    // lines one by one so only the bad ones are skipped.
    for (const pending of batch) await storeBatch([pending]);
  };

  const storeInferred = async (pending: PendingItem) => {
    try {
      const { text, metadata, userId, agentId, runId } = pending.item;
      const result = await memory.add(text, {
        ...(userId ? { userId } : {}),
        ...(agentId ? { agentId } : {}),
        ...(runId ? { runId } : {}),
        ...(metadata ? { metadata } : {}),
        infer: true,
      });
      summary.imported += result.results.filter((change) => change.event !== 'DELETE').length;
    } catch (error) {
      if (!InvalidArgumentError.isInstance(error)) throw error;
      skip(pending.line, itemMessage(error));
    }
  };

  let batch: PendingItem[] = [];
  let lineNumber = 0;
  try {
    for await (const raw of lines) {
      lineNumber += 1;
      bytes += Buffer.byteLength(raw) + 1;
      const text = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim().length === 0) continue;
      const parsed = parseImportLine(text, options.scope);
      if ('error' in parsed) {
        skip(lineNumber, parsed.error);
        continue;
      }
      if (options.infer) {
        await storeInferred({ line: lineNumber, item: parsed });
      } else {
        // One import call refuses an id twice: a repeated id starts a new batch, so the later
        // line is stored after (and replaces) the earlier one.
        const id = parsed.id;
        if (id !== undefined && batch.some((pending) => pending.item.id === id)) {
          await storeBatch(batch);
          batch = [];
        }
        batch.push({ line: lineNumber, item: parsed });
        if (batch.length >= options.batchSize) {
          await storeBatch(batch);
          batch = [];
        }
      }
      drawImport(progress, bytes, size, summary);
    }
    if (batch.length > 0) await storeBatch(batch);
    drawImport(progress, bytes, size, summary, true);
  } catch (error) {
    progress.clear();
    options.stderr.write(
      `Import stopped at line ${lineNumber} after storing ${summary.imported} memories.\n`,
    );
    throw error;
  } finally {
    progress.clear();
    lines.close();
  }
  return summary;
}
