import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext } from './context.js';

const run = promisify(execFile);

/** A server a backend row runs against, or why there is none. */
export type BackendServer =
  | {
      url: string;
      /** Where the server came from, for the report. */
      origin: 'environment' | 'already running' | 'started';
      /** Stops the server when this program started it; otherwise does nothing. */
      stop: () => Promise<void>;
    }
  | { unavailable: string };

interface ServiceFile {
  envVar: string;
  nativeLauncher: boolean;
  nativeUnavailableReason?: string;
}

/** The last `error:` line a launcher printed, else its last line of output. */
export function launcherFailure(output: string): string {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const error = lines.findLast((line) => /\berror:/.test(line));
  return (error ?? lines.at(-1) ?? 'no output').replace(/^\[[^\]]+\]\s*/, '');
}

async function launcher(script: string, command: 'start' | 'stop' | 'status') {
  const { stdout } = await run('bash', [script, command], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30 * 60 * 1000,
    env: process.env,
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

/**
 * Finds the real server of a backend the way the conformance suites do
 * (`conformance/services/<service>/`): the environment variable naming one, else the native
 * launcher's server when it already answers (left running), else one started by the launcher
 * (stopped by `stop()` unless `keep` is set).
 */
export async function provideBackendServer(
  root: string,
  service: string,
  options: { keep: boolean },
): Promise<BackendServer> {
  const folder = join(root, 'conformance', 'services', service);
  const file = join(folder, 'service.json');
  if (!existsSync(file)) return { unavailable: `no conformance/services/${service}/service.json` };
  const definition = JSON.parse(readFileSync(file, 'utf8')) as ServiceFile;
  const fromEnvironment = process.env[definition.envVar];
  if (fromEnvironment) return { url: fromEnvironment, origin: 'environment', stop: async () => {} };
  if (!definition.nativeLauncher) {
    return {
      unavailable: `no ${definition.envVar}, and ${definition.nativeUnavailableReason ?? 'no native launcher'}`,
    };
  }
  const script = join(folder, 'launcher.sh');
  try {
    const url = await launcher(script, 'status');
    if (url) return { url, origin: 'already running', stop: async () => {} };
  } catch {
    // Not running: start it below.
  }
  try {
    const url = await launcher(script, 'start');
    return {
      url,
      origin: 'started',
      stop: async () => {
        if (!options.keep) await launcher(script, 'stop');
      },
    };
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return { unavailable: `launcher failed: ${launcherFailure(stderr || message)}` };
  }
}

/**
 * An export of an adapter's built entry point (`adapters/<adapter>/dist/index.js`), so that the
 * benchmark reaches every backend through its public factory without depending on each package.
 */
export async function loadAdapterExport<T>(
  root: string,
  adapter: string,
  name: string,
): Promise<T> {
  const path = join(root, 'adapters', adapter, 'dist', 'index.js');
  if (!existsSync(path)) throw new Error(`adapters/${adapter} is not built (run \`pnpm build\`)`);
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const value = module[name];
  if (typeof value !== 'function') throw new Error(`adapters/${adapter} exports no ${name}`);
  return value as T;
}

/** Where a backend row runs: a started or found server, or a scratch directory; or why not. */
export type BackendTarget =
  | {
      origin: string;
      /** Scratch directory of an embedded store (empty for a server). */
      directory: string;
      url: string | undefined;
      /** Removes the directory, or stops the server when this program started it. */
      release: () => Promise<void>;
    }
  | { unavailable: string };

/** The server (through its conformance launcher) or scratch directory of one backend row. */
export async function openBackendTarget(
  context: BenchContext,
  service: string | undefined,
  label: string,
): Promise<BackendTarget> {
  if (!service) {
    const directory = mkdtempSync(join(tmpdir(), `engram-bench-${label}-`));
    return {
      origin: 'embedded',
      directory,
      url: undefined,
      release: async () => rmSync(directory, { recursive: true, force: true }),
    };
  }
  context.log(`  ${label}: finding or starting the server (conformance/services/${service})`);
  const server = await provideBackendServer(context.root, service, {
    keep: context.keepServers === true,
  });
  if ('unavailable' in server) return { unavailable: server.unavailable };
  return { origin: server.origin, directory: '', url: server.url, release: server.stop };
}

/** What a backend row needs to reach its store through the adapter's public factory. */
export interface BackendDefinition {
  /** Row name, and the `--backends` name. */
  name: string;
  /** Folder under `adapters/` whose built `dist/index.js` exports the factory. */
  adapter: string;
  /** Name of the factory export, e.g. `createPgvectorVectorStore`. */
  factory: string;
  /** Folder under `conformance/services/` of its server; absent for embedded stores. */
  service?: string;
  /** The index settings the row runs with (the factory's defaults, which are the recommended ones). */
  settings: string;
  /** Factory options, from the server URL or the scratch directory of an embedded store. */
  options: (target: { url?: string; directory: string }) => Record<string, unknown>;
  /**
   * Search-time settings whose unscoped queries are measured too, on the same data through a
   * second store of the same factory (e.g. a higher `efSearch`): label and the options added.
   */
  searchVariants?: readonly { label: string; options: Record<string, unknown> }[];
}

/** The part of a result row that says whether and against what it ran. */
export interface BackendRowStatus {
  /** Why the row has no figures (could not start, failed at a step); absent when it ran. */
  unavailable?: string;
  /** Where the store came from: embedded, environment, already running, started. */
  origin?: string;
  /** The machine the row ran on (`machineLine()`); rows of earlier runs keep theirs. */
  machine?: string;
}

/**
 * Opens a backend's server or directory and its store, runs `work` on it, and always cleans up
 * (`cleanup`, `close`, then stops a server it started). A failure becomes the row's
 * `unavailable`, naming the step `work` last announced through `step`.
 */
export async function runBackendRow<Store extends { close(): Promise<void> }>(
  context: BenchContext,
  backend: BackendDefinition,
  row: BackendRowStatus,
  work: (
    store: Store,
    step: (name: string) => void,
    open: (extra: Record<string, unknown>) => Store,
  ) => Promise<void>,
  cleanup: (store: Store) => Promise<void>,
): Promise<void> {
  const target = await openBackendTarget(context, backend.service, backend.name);
  if ('unavailable' in target) {
    row.unavailable = `server could not be started: ${target.unavailable}`;
    return;
  }
  row.origin = target.origin;
  let current = 'loading the adapter';
  let store: Store | undefined;
  const others: Store[] = [];
  try {
    const factory = await loadAdapterExport<(options: Record<string, unknown>) => Store>(
      context.root,
      backend.adapter,
      backend.factory,
    );
    const options = backend.options({ url: target.url, directory: target.directory });
    store = factory(options);
    await work(
      store,
      (name) => {
        current = name;
      },
      (extra) => {
        const other = factory({ ...options, ...extra });
        others.push(other);
        return other;
      },
    );
  } catch (error) {
    row.unavailable = `failed while ${current}: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    for (const other of others) await other.close().catch(() => {});
    if (store) {
      await cleanup(store).catch(() => {});
      await store.close().catch(() => {});
    }
    await target.release().catch((error: Error) => {
      context.log(`  ${backend.name}: stopping the server failed: ${error.message}`);
    });
  }
}
