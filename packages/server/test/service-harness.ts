import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built command, as a deployment runs it. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const redisScript = fileURLToPath(new URL('../scripts/redis.sh', import.meta.url));

/** Environment of every child: offline models, nothing inherited that changes the setup. */
export function childEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' };
  for (const name of [
    'OPENAI_API_KEY',
    'OPENAI_BASE_URL',
    'ENGRAM_HOME',
    'ENGRAM_CONFIG',
    'ENGRAM_PORT',
    'ENGRAM_HOST',
    'REDIS_URL',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'ENGRAM_VECTOR_STORE',
    'ENGRAM_VECTOR_STORE_URL',
    'ENGRAM_HISTORY_STORE',
    'ENGRAM_HISTORY_STORE_URL',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

/** A temporary data directory, removed by `dispose`. */
export async function temporaryDataDir(): Promise<{ path: string; dispose(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'engram-server-test-'));
  return { path, dispose: () => rm(path, { recursive: true, force: true }) };
}

/** Runs `engram-server --data-dir <dir> --json keys create --project <project>`. */
export function createKey(dataDir: string, project: string): { id: string; key: string } {
  const output = execFileSync(
    process.execPath,
    [bin, '--data-dir', dataDir, '--json', 'keys', 'create', '--project', project],
    { env: childEnvironment(), encoding: 'utf8' },
  );
  return JSON.parse(output) as { id: string; key: string };
}

/** Runs a `keys` subcommand and returns its exit code and output. */
export function runKeys(dataDir: string, args: string[]): { code: number; stdout: string } {
  try {
    const stdout = execFileSync(process.execPath, [bin, '--data-dir', dataDir, ...args], {
      env: childEnvironment(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, stdout: failed.stdout };
  }
}

/** A child process of the built command and the JSON lines it logged. */
export interface EngramProcess {
  child: ChildProcess;
  /** Every log line, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw output, stdout and stderr together. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Waits for a log line matching `predicate`. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns the built command with arguments (in `cwd`, else this process's directory). */
export function spawnEngram(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): EngramProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  const logs: Array<Record<string, unknown>> = [];
  let raw = '';
  const waiters: Array<() => void> = [];
  let pending = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    raw += text;
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line.
      }
    }
    for (const wake of waiters.splice(0)) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      for (const wake of waiters.splice(0)) wake();
      resolve(code);
    });
  });
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  return {
    child,
    logs,
    output: () => raw,
    exited,
    async waitForLog(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(predicate);
        if (found) return found;
        if (exitCode !== undefined) {
          throw new Error(`The process exited (${exitCode}) first. Output:\n${raw}`);
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`No matching log line within ${timeoutMs} ms. Output:\n${raw}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 250));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async stop(signal = 'SIGTERM') {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
}

/** A running server and a client for it. */
export interface EngramServer extends EngramProcess {
  url: string;
  request(
    path: string,
    options?: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: unknown; text: string }>;
}

/** Starts `serve` on 127.0.0.1 and a free port, and waits until it listens. */
export async function startEngramServer(
  dataDir: string,
  { env = {}, args = [], cwd }: { env?: NodeJS.ProcessEnv; args?: string[]; cwd?: string } = {},
): Promise<EngramServer> {
  const process = spawnEngram(
    ['--data-dir', dataDir, 'serve', '--host', '127.0.0.1', '--port', '0', ...args],
    env,
    cwd,
  );
  const listening = await process.waitForLog((line) => line.msg === 'listening');
  const url = `http://127.0.0.1:${listening.port as number}`;
  return {
    ...process,
    url,
    async request(path, { method = 'GET', key, body, headers = {} } = {}) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(key ? { Authorization: `Bearer ${key}` } : {}),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (metrics, JSONL).
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
}

/** Starts the test Redis (Debian's redis-server) through scripts/redis.sh; returns its URL. */
export function startTestRedis(): string {
  if (process.env.ENGRAM_TEST_REDIS_URL) return process.env.ENGRAM_TEST_REDIS_URL;
  const output = execFileSync('bash', [redisScript, 'start'], { encoding: 'utf8' });
  const match = /REDIS_URL=(\S+)/.exec(output);
  if (!match) throw new Error(`scripts/redis.sh start printed no URL:\n${output}`);
  return match[1]!;
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 20_000, intervalMs = 200 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A data directory with an API key and a configuration file whose queue no other test uses. */
export interface QueueProject {
  /** The data directory. */
  path: string;
  /** An API key of the project. */
  key: string;
  /** The `engram.yaml` to pass with `--config`. */
  config: string;
  /** Spawns `engram worker` on this directory and configuration; waits until it takes jobs. */
  startWorker(env: NodeJS.ProcessEnv, args?: string[]): Promise<EngramProcess>;
}

/**
 * Runs `test` with a fresh `QueueProject` and removes the directory afterwards. `configLines`
 * come before the queue section, `queueLines` (e.g. `backoffMs: 200`) inside it.
 */
export async function withQueueProject<T>(
  options: { project?: string; configLines?: string[]; queueLines?: string[] },
  test: (project: QueueProject) => Promise<T>,
): Promise<T> {
  const directory = await temporaryDataDir();
  try {
    const { key } = createKey(directory.path, options.project ?? 'alpha');
    const config = join(directory.path, 'engram.yaml');
    const lines = [
      ...(options.configLines ?? []),
      'queue:',
      `  name: test-${randomUUID()}`,
      ...(options.queueLines ?? []).map((line) => `  ${line}`),
      '',
    ];
    await writeFile(config, lines.join('\n'));
    return await test({
      path: directory.path,
      key,
      config,
      async startWorker(env, args = []) {
        const worker = spawnEngram(
          ['--data-dir', directory.path, 'worker', '--config', config, ...args],
          env,
        );
        try {
          await worker.waitForLog((line) => line.msg === 'worker started', 60_000);
        } catch (error) {
          await worker.stop();
          throw error;
        }
        return worker;
      },
    });
  } finally {
    await directory.dispose();
  }
}
