import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ServerOrigin } from './harness.js';

const run = promisify(execFile);

/** Root of the service definitions: `conformance/services/<name>/`. */
export const servicesDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'services');

/** How a Testcontainers container of the service is started; read from `service.json`. */
export interface ContainerDefinition {
  /** Port the client connects to inside the container. */
  port: number;
  /** More ports to expose. */
  extraPorts?: number[];
  /** Environment of the container. */
  environment?: Record<string, string>;
  /** Command override. */
  command?: string[];
  /** Readiness: a log line (regex source), an HTTP path answering 2xx, or the port listening. */
  wait?:
    | { type: 'log'; pattern: string; times?: number }
    | { type: 'http'; path: string; port?: number }
    | { type: 'port' };
  /**
   * The URL handed to the adapter, with `{host}` and `{port}` (the mapped client port, or
   * `{port:<container port>}` for another one) filled in.
   */
  url: string;
  /** Startup timeout in milliseconds. Default 120,000. */
  startupTimeoutMs?: number;
}

/** One backend's service definition (`conformance/services/<name>/service.json`). */
export interface ServiceDefinition {
  /** Folder name, e.g. `pgvector`. */
  name: string;
  /** Environment variable naming an existing server, e.g. `PGVECTOR_URL`. */
  envVar: string;
  /**
   * Whether `launcher.sh` in the folder can install and start a real server on this kind of
   * machine (from package registries, without Docker). When true, CI must run the suite.
   */
  nativeLauncher: boolean;
  /** Why there is no native launcher, shown in the matrix. */
  nativeUnavailableReason?: string;
  /** What the matrix should say about how the server stands in for the real product. */
  matrixNote?: string;
  /** How to start it with Testcontainers; the image comes from the folder's one-line Dockerfile. */
  container?: ContainerDefinition;
}

/** A server the suite can use. */
export interface ProvidedService {
  url: string;
  origin: ServerOrigin;
  /** Stops what this process started (nothing for `environment`). */
  stop: () => Promise<void>;
}

/** Reads `conformance/services/<name>/service.json`. */
export function loadService(name: string): ServiceDefinition {
  const folder = join(servicesDirectory, name);
  const file = join(folder, 'service.json');
  if (!existsSync(file))
    throw new Error(`No service definition at conformance/services/${name}/service.json`);
  const definition = JSON.parse(readFileSync(file, 'utf8')) as ServiceDefinition;
  return { ...definition, name };
}

/** The image named by the service's one-line Dockerfile. */
export function serviceImage(name: string): string {
  const dockerfile = readFileSync(join(servicesDirectory, name, 'Dockerfile'), 'utf8');
  const match = /^\s*FROM\s+(\S+)/m.exec(dockerfile);
  if (!match) throw new Error(`conformance/services/${name}/Dockerfile has no FROM line`);
  return match[1]!;
}

/**
 * The exit status (EX_UNAVAILABLE) of a launcher that cannot provide its server on this machine
 * (for example a server that must be built from source first and has not been): the suite is
 * then reported as not run, with the launcher's explanation, even under `CI=true`.
 */
export const launcherUnavailableStatus = 69;

/**
 * When a launcher run failed with {@link launcherUnavailableStatus}, its explanation (the last
 * line it logged, without the `[service]` prefix); otherwise `undefined`.
 */
export function launcherUnavailableReason(error: unknown): string | undefined {
  const failure = error as { code?: unknown; stderr?: unknown };
  if (failure.code !== launcherUnavailableStatus) return undefined;
  const lines = String(failure.stderr ?? '')
    .trim()
    .split('\n');
  const reason = (lines.at(-1) ?? '').replace(/^\[[^\]]+\]\s*/, '');
  return reason || 'the native launcher says the server cannot be had here';
}

/** Runs `launcher.sh <command>` of a service and returns the last line it printed. */
export async function runLauncher(name: string, command: 'start' | 'stop' | 'status' | 'install') {
  const script = join(servicesDirectory, name, 'launcher.sh');
  const { stdout } = await run('bash', [script, command], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 45 * 60 * 1000,
    env: process.env,
  });
  return stdout.trim().split('\n').at(-1) ?? '';
}

async function dockerAvailable(): Promise<boolean> {
  if (process.env.DOCKER_HOST) return true;
  return existsSync('/var/run/docker.sock');
}

async function startContainer(definition: ServiceDefinition): Promise<ProvidedService> {
  const container = definition.container!;
  const { GenericContainer, Wait } = await import('testcontainers');
  let builder = new GenericContainer(serviceImage(definition.name))
    .withExposedPorts(container.port, ...(container.extraPorts ?? []))
    .withStartupTimeout(container.startupTimeoutMs ?? 120_000);
  if (container.environment) builder = builder.withEnvironment(container.environment);
  if (container.command) builder = builder.withCommand(container.command);
  const wait = container.wait ?? { type: 'port' };
  if (wait.type === 'log') {
    builder = builder.withWaitStrategy(
      Wait.forLogMessage(new RegExp(wait.pattern), wait.times ?? 1),
    );
  } else if (wait.type === 'http') {
    builder = builder.withWaitStrategy(Wait.forHttp(wait.path, wait.port ?? container.port));
  } else {
    builder = builder.withWaitStrategy(Wait.forListeningPorts());
  }
  const started = await builder.start();
  const url = container.url
    .replaceAll('{host}', started.getHost())
    .replace(/\{port:(\d+)\}/g, (_, port: string) => String(started.getMappedPort(Number(port))))
    .replaceAll('{port}', String(started.getMappedPort(container.port)));
  return {
    url,
    origin: 'container',
    stop: async () => {
      await started.stop();
    },
  };
}

/** Either a server, or the reason the suite must be skipped. */
export type ServiceResolution = ProvidedService | { skip: string };

/**
 * Finds a real server for a backend, in order: the environment variable naming one; the native
 * launcher (installs from package registries and starts it on 127.0.0.1); a Testcontainers
 * container when a Docker engine is reachable. Under `CI=true`, a service with a native launcher
 * that fails to start is an error, never a skip (unless the launcher exits with
 * {@link launcherUnavailableStatus}: then its reason is reported); with `ENGRAM_REQUIRE_SERVER=1` (the GitHub
 * Actions matrix) any service without a server is an error.
 */
export async function provideService(name: string): Promise<ServiceResolution> {
  const definition = loadService(name);
  const fromEnvironment = process.env[definition.envVar];
  if (fromEnvironment) {
    return { url: fromEnvironment, origin: 'environment', stop: async () => {} };
  }
  const errors: string[] = [];
  if (definition.nativeLauncher && process.env.ENGRAM_SKIP_NATIVE_LAUNCHERS !== '1') {
    try {
      const url = await runLauncher(name, 'start');
      return {
        url,
        origin: 'native launcher',
        stop: async () => {
          await runLauncher(name, 'stop');
        },
      };
    } catch (error) {
      const unavailable = launcherUnavailableReason(error);
      if (unavailable) {
        errors.push(`native launcher: ${unavailable}`);
      } else {
        const message = `native launcher failed: ${(error as Error).message.split('\n').slice(0, 20).join('\n')}`;
        if (process.env.CI === 'true') throw new Error(`[${name}] ${message}`);
        errors.push(message);
      }
    }
  }
  if (definition.container && (await dockerAvailable())) {
    try {
      return await startContainer(definition);
    } catch (error) {
      errors.push(`container failed: ${(error as Error).message.split('\n')[0]}`);
    }
  } else if (definition.container) {
    errors.push('no Docker engine for Testcontainers');
  }
  const reasons = [
    `no ${definition.envVar}`,
    definition.nativeLauncher
      ? undefined
      : (definition.nativeUnavailableReason ?? 'no native launcher'),
    ...errors,
  ].filter(Boolean);
  const skip = `not run against a real server here: ${reasons.join('; ')}`;
  if (process.env.ENGRAM_REQUIRE_SERVER === '1') {
    throw new Error(`[${name}] ENGRAM_REQUIRE_SERVER=1 but ${skip}`);
  }
  return { skip };
}

/**
 * A vitest `globalSetup` for an adapter's conformance tests: resolves the service once and hands
 * it to the test files through `inject('engramService')`.
 *
 * Import it from `@engram/conformance/services` in the globalSetup file: globalSetup runs
 * outside the test workers, where importing vitest (which the suites do) fails.
 *
 * ```ts
 * // test/global-setup.ts
 * import { serviceGlobalSetup } from '@engram/conformance/services';
 * export default serviceGlobalSetup('qdrant');
 * // test/qdrant.conformance.test.ts
 * const service = inject('engramService');
 * ```
 */
export function serviceGlobalSetup(name: string) {
  return async ({ provide }: { provide: (key: 'engramService', value: ServiceInfo) => void }) => {
    const resolution = await provideService(name);
    if ('skip' in resolution) {
      provide('engramService', { name, skip: resolution.skip, origin: 'none' });
      return;
    }
    provide('engramService', { name, url: resolution.url, origin: resolution.origin });
    return async () => {
      await resolution.stop();
    };
  };
}

/** What {@link serviceGlobalSetup} hands to test files. */
export interface ServiceInfo {
  name: string;
  /** Server URL, when there is a server. */
  url?: string;
  /** Why there is none. */
  skip?: string;
  origin: ServerOrigin;
}

declare module 'vitest' {
  export interface ProvidedContext {
    engramService: ServiceInfo;
  }
}
