import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { InvalidArgumentError } from '@engram/core';

/** What the store uses of a faiss-node index. */
export interface FaissIndex {
  ntotal(): number;
  getDimension(): number;
  add(vectors: number[]): void;
  search(vector: number[], k: number): { distances: number[]; labels: number[] };
  removeIds(labels: number[]): number;
  write(path: string): void;
}

/** What the store uses of the faiss-node module. */
export interface FaissModule {
  IndexFlatIP: {
    new (dimensions: number): FaissIndex;
    read(path: string): FaissIndex;
  };
}

let loaded: FaissModule | undefined;

/** Loads faiss-node on first use, with advice when its native module is missing. */
export function loadFaiss(source: string): FaissModule {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('faiss-node') as FaissModule;
    return loaded;
  } catch (error) {
    throw new InvalidArgumentError({
      source,
      message:
        "faiss-node's native module does not load. Install faiss-node 0.5.1 with its install script allowed (it fetches a prebuilt binary), or run `node node_modules/@engram/faiss/scripts/build-faiss-node.mjs` to build it against the system FAISS (Debian's libfaiss-dev).",
      cause: error,
    });
  }
}

function fsyncPath(path: string, flags: string) {
  const descriptor = openSync(path, flags);
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * Writes the index to a temporary file beside `path` and flushes it to disk. `commit` then moves
 * it over `path` (an atomic rename, the directory flushed after it) and `discard` removes it:
 * the caller renames only while what it wrote is still current.
 */
export function writeIndexFile(index: FaissIndex, path: string) {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    index.write(temporary);
    fsyncPath(temporary, 'r');
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return {
    commit() {
      renameSync(temporary, path);
      fsyncPath(dirname(path), 'r');
    },
    discard() {
      rmSync(temporary, { force: true });
    },
  };
}
