import type { WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Memory, MemoryItem, Scope } from '@engram/core';
import { type OutputStream, writeWithBackpressure } from './format-output.js';
import { usageError } from './parse-options.js';

/** One exported memory: the fields `engram import` reads, plus the original id and times. */
export interface ExportLine {
  text: string;
  userId?: string;
  agentId?: string;
  runId?: string;
  metadata: MemoryItem['metadata'];
  /** The memory's id; `import` keeps it, so a re-import replaces rather than duplicates. */
  id: string;
  createdAt: string;
  updatedAt: string;
  /** When the memory expires, when it does. */
  expiresAt?: string;
}

/** The JSONL line for one memory. */
export function exportLine(item: MemoryItem): ExportLine {
  return {
    text: item.memory,
    ...(item.userId === undefined ? {} : { userId: item.userId }),
    ...(item.agentId === undefined ? {} : { agentId: item.agentId }),
    ...(item.runId === undefined ? {} : { runId: item.runId }),
    metadata: item.metadata,
    id: item.id,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    ...(item.expiresAt === undefined ? {} : { expiresAt: item.expiresAt }),
  };
}

/**
 * Writes every memory of a scope (of the whole collection when `scope` is `'all'`) as JSONL to a
 * file or a stream; returns how many.
 */
export async function exportJsonl(
  memory: Memory,
  scope: Scope | 'all',
  target: { file: string } | { stream: OutputStream },
): Promise<number> {
  let fileStream: WriteStream | undefined;
  if ('file' in target) {
    try {
      fileStream = (await open(target.file, 'w')).createWriteStream();
    } catch (error) {
      usageError(`Cannot write ${target.file}: ${(error as Error).message}`, error);
    }
  }
  const output: OutputStream = fileStream ?? (target as { stream: OutputStream }).stream;
  let count = 0;
  let buffer = '';
  try {
    for await (const item of scope === 'all' ? memory.exportAll() : memory.export(scope)) {
      buffer += `${JSON.stringify(exportLine(item))}\n`;
      count += 1;
      if (buffer.length >= 64 * 1024) {
        await writeWithBackpressure(output, buffer);
        buffer = '';
      }
    }
    if (buffer) await writeWithBackpressure(output, buffer);
  } finally {
    if (fileStream) {
      fileStream.end();
      await finished(fileStream);
    }
  }
  return count;
}
