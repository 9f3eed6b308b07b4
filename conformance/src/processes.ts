import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createHashEmbedder, Memory, type ScopeLock, type VectorStore } from '@engram/core';
import { createScriptedLLM, isExtractionRequest, reconcileInput } from '@engram/core/testing';

// Helpers for tests that run several real processes against one backend: the test side starts
// Node.js scripts and reads what they logged; the script side (imported by an adapter's
// `test/fixtures/*.mjs`) adds a fact or holds a scope lock. Nothing here imports vitest, so
// child processes can import it.

/** A Node.js script running as a child process, with its output collected. */
export interface NodeScriptRun {
  /** The child process. */
  child: ChildProcess;
  /** Resolves with the exit code (`null` when a signal ended it). */
  exited: Promise<number | null>;
  /** Resolves once the output contains `text`; rejects if the process exits first. */
  printed(text: string): Promise<void>;
  /** Standard output and error so far. */
  output(): string;
}

/** Starts `node <script> ...args` with the current environment plus `env`. */
export function runNodeScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): NodeScriptRun {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: string) => {
    output += chunk;
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    async printed(text) {
      while (!output.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`The process exited before printing "${text}":\n${output}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    output: () => output,
  };
}

/** One line of a lock log: a process entering or leaving the work under a lock. */
export interface LockLogEntry {
  /** `enter` or `leave`. */
  event: string;
  /** The process id. */
  pid: string;
  /** Wall-clock time in milliseconds. */
  time: number;
}

/** The entries of a lock log that {@link holdLockInChild} wrote, oldest first. */
export function readLockLog(path: string): LockLogEntry[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .map(([event, pid, time]) => ({ event: event!, pid: pid!, time: Number(time) }))
    .sort((left, right) => left.time - right.time);
}

/**
 * Whether the holds of a lock log never overlap: every `enter` is followed by the `leave` of
 * the same process before the next `enter`.
 */
export function holdsTakeTurns(entries: readonly LockLogEntry[]): boolean {
  return entries.every((entry, index) =>
    index % 2 === 0
      ? entry.event === 'enter'
      : entry.event === 'leave' && entry.pid === entries[index - 1]!.pid,
  );
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Options of {@link addInChild}. */
export interface AddInChildOptions {
  /** The store every process shares. */
  vectorStore: VectorStore;
  /** Collection of the memories. Default `memories`. */
  collection?: string;
  /** The user whose memory it is. */
  userId: string;
  /** The message, which the model returns as the one fact. */
  text: string;
  /** Latency of each model call. Default 100 ms. */
  latencyMs?: number;
  /** Wall-clock time (ms) to start the add at, so that several processes add at once. */
  startAt?: number;
}

/**
 * In a child process: one `Memory.add` through a model with latency that returns the message as
 * the fact and, when reconciling, keeps a fact already stored; prints the result as JSON.
 */
export async function addInChild(options: AddInChildOptions): Promise<void> {
  const latencyMs = options.latencyMs ?? 100;
  const llm = createScriptedLLM({
    fallback: async (request) => {
      await sleep(latencyMs);
      if (isExtractionRequest(request)) return { facts: [options.text] };
      const { existing, facts } = reconcileInput(request);
      return {
        memory: facts.map((fact) => {
          const same = existing.find((memory) => memory.text === fact);
          return same
            ? { event: 'NONE', id: same.id, text: '' }
            : { event: 'ADD', id: '', text: fact };
        }),
      };
    },
  });
  const memory = new Memory({
    vectorStore: options.vectorStore,
    embedder: createHashEmbedder(),
    llm,
    graphStore: null,
    ...(options.collection ? { collection: options.collection } : {}),
  });
  await sleep(Math.max(0, (options.startAt ?? 0) - Date.now()));
  const result = await memory.add(options.text, { userId: options.userId });
  await memory.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * In a child process: takes a key `rounds` times and holds it `holdMs` each time, appending
 * `enter`/`leave` lines to the file named by `LOCK_LOG` (see {@link readLockLog}) and printing
 * `holding` once inside. `args` are the script's arguments `<key> <hold ms> <rounds>`.
 */
export async function holdLockInChild(scopeLock: ScopeLock, args: string[]): Promise<void> {
  const [key, holdMs, rounds] = args;
  const log = process.env.LOCK_LOG;
  if (!key || !log)
    throw new Error('Usage: LOCK_LOG=<file> node <script> ... <key> <hold ms> <rounds>');
  const stamp = (event: string) =>
    appendFileSync(log, `${event} ${process.pid} ${performance.timeOrigin + performance.now()}\n`);
  for (let round = 0; round < Number(rounds); round++) {
    await scopeLock.withLocks({ keys: [key] }, async () => {
      stamp('enter');
      process.stdout.write('holding\n');
      await sleep(Number(holdMs));
      stamp('leave');
    });
  }
}
