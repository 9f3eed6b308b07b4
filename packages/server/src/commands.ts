import { resolve } from 'node:path';
import { defaultDataDirectory } from '@engram/core';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type Access,
  type ApiKeyInfo,
  type ApiKeyStore,
  accessLevels,
  type CreatedApiKey,
} from './api-keys.js';
import type { ServerConfigOverrides } from './server-config.js';

/** Where the server commands write and which environment they read. */
export interface ServerCommandContext {
  stdout: { write(text: string): unknown };
  /** Where progress bars go. Default: the process's standard error. */
  stderr?: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

interface GlobalFlags {
  dataDir?: string;
  json?: boolean;
}

function wholeNumberOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(
        `${flag} must be a whole number from ${min} to ${max}, got "${value}".`,
      );
    }
    return number;
  };
}

/** Job settings given on the command line, without the flags left out. */
function definedSettings(settings: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

const parsePort = wholeNumberOption('--port', 0, 65_535);
const parseMetricsPort = wholeNumberOption('--metrics-port', 0, 65_535);
const parseConcurrency = wholeNumberOption('--concurrency', 1, 64);
const parseWorkers = wholeNumberOption('--workers', 1, 64);

function parseAccess(value: string): Access {
  if (!(accessLevels as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`must be read, write or admin, got "${value}".`);
  }
  return value as Access;
}

/** What `engram keys` does with a key store, file or database. */
interface KeyCommands {
  create(options: Parameters<ApiKeyStore['create']>[0]): Promise<CreatedApiKey>;
  list(): Promise<ApiKeyInfo[]>;
  revoke(id: string): Promise<ApiKeyInfo>;
}

/** The server configuration from the file, the environment and these flags. */
async function configOf(
  command: Command,
  env: ServerCommandContext['env'],
  overrides: Omit<ServerConfigOverrides, 'dataDir'>,
) {
  const { loadServerConfig } = await import('./server-config.js');
  const { dataDir } = command.optsWithGlobals<GlobalFlags>();
  return loadServerConfig(
    { ...overrides, ...(dataDir === undefined ? {} : { dataDir: resolve(dataDir) }) },
    env,
  );
}

/**
 * Adds `serve`, `worker` and `keys` to an `engram` program. The server itself is loaded only
 * when one of them runs, so other commands start as fast as before.
 */
export function addServerCommands(program: Command, context: ServerCommandContext): void {
  const { stdout, env } = context;
  const print = (flags: GlobalFlags, human: string, value: unknown) => {
    stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : human);
  };
  /**
   * Runs `work` on the API keys: in PostgreSQL when ENGRAM_API_KEYS_URL is set, else in the data
   * directory's file; then closes the store.
   */
  const withKeyStore = async (
    command: Command,
    work: (store: KeyCommands, globals: GlobalFlags) => Promise<void>,
  ) => {
    const globals = command.optsWithGlobals<GlobalFlags>();
    const url = env.ENGRAM_API_KEYS_URL?.trim();
    if (url) {
      const { openPostgresApiKeyStore } = await import('./postgres-api-keys.js');
      const store = await openPostgresApiKeyStore({ url });
      try {
        await work(
          {
            create: (options) => store.createKey(options),
            list: async () => store.list(),
            revoke: (id) => store.revokeKey(id),
          },
          globals,
        );
      } finally {
        await store.closeAsync();
      }
      return;
    }
    const { apiKeyStorePath, openApiKeyStore } = await import('./api-keys.js');
    const dataDir = resolve(globals.dataDir ?? defaultDataDirectory(env));
    const store = openApiKeyStore(apiKeyStorePath(dataDir));
    try {
      await work(
        {
          create: async (options) => store.create(options),
          list: async () => store.list(),
          revoke: async (id) => store.revoke(id),
        },
        globals,
      );
    } finally {
      store.close();
    }
  };

  program
    .command('serve')
    .description('run the HTTP API (REST, mem0-compatible routes, MCP, metrics)')
    .option('--host <host>', 'interface to listen on (default $ENGRAM_HOST, else 0.0.0.0)')
    .option('--port <port>', 'port (default $ENGRAM_PORT, else 8080)', parsePort)
    .option('--config <file>', 'YAML or JSON configuration file (default $ENGRAM_CONFIG)')
    .option(
      '--insecure-local',
      'accept requests without an API key (project "default"), on 127.0.0.1 only',
    )
    .option(
      '--workers <n>',
      'server processes sharing the port (default $ENGRAM_WORKERS, else one per core)',
      parseWorkers,
    )
    .option('--tls-cert <file>', 'serve HTTPS: PEM certificate chain (default $ENGRAM_TLS_CERT)')
    .option('--tls-key <file>', 'serve HTTPS: PEM private key (default $ENGRAM_TLS_KEY)')
    .action(
      async (
        flags: {
          host?: string;
          port?: number;
          config?: string;
          insecureLocal?: boolean;
          workers?: number;
          tlsCert?: string;
          tlsKey?: string;
        },
        command: Command,
      ) => {
        const { createLogger, startServer } = await import('./server-runtime.js');
        const { clusterWorkerIndex, resolveWorkerCount, startServerCluster } = await import(
          './server-cluster.js'
        );
        const config = await configOf(command, env, {
          ...(flags.host === undefined ? {} : { host: flags.host }),
          ...(flags.port === undefined ? {} : { port: flags.port }),
          ...(flags.config === undefined ? {} : { configFile: flags.config }),
          ...(flags.insecureLocal ? { insecureLocal: true } : {}),
          ...(flags.workers === undefined ? {} : { workers: flags.workers }),
          ...(flags.tlsCert === undefined ? {} : { tlsCert: flags.tlsCert }),
          ...(flags.tlsKey === undefined ? {} : { tlsKey: flags.tlsKey }),
        });
        const { workers, reason } = resolveWorkerCount(config);
        if (workers === 1 || clusterWorkerIndex() !== undefined) {
          const logger = createLogger(config.logLevel);
          if (reason) logger.info({ workers }, `one server process: ${reason}`);
          await startServer(config, { logger });
          return;
        }
        await startServerCluster(config, workers, createLogger(config.logLevel));
      },
    );

  program
    .command('worker')
    .description('take queued asynchronous adds from Redis ($REDIS_URL) and run them')
    .option('--config <file>', 'YAML or JSON configuration file (default $ENGRAM_CONFIG)')
    .option('--concurrency <n>', 'jobs run at once (default 2)', parseConcurrency)
    .option(
      '--metrics-port <port>',
      "port of the worker's own /metrics (default $ENGRAM_WORKER_METRICS_PORT, else $ENGRAM_METRICS_PORT)",
      parseMetricsPort,
    )
    .action(
      async (
        flags: { config?: string; concurrency?: number; metricsPort?: number },
        command: Command,
      ) => {
        const { startWorker } = await import('./server-runtime.js');
        const config = await configOf(command, env, {
          ...(flags.config === undefined ? {} : { configFile: flags.config }),
        });
        await startWorker(config, {
          concurrency: flags.concurrency ?? 2,
          ...(flags.metricsPort === undefined ? {} : { metricsPort: flags.metricsPort }),
        });
      },
    );

  program
    .command('maintenance')
    .description(
      'run a maintenance job once over every project (or --project): history-retention, dedupe, and others registered (expiry, reembed)',
    )
    .argument('<job>', 'job name, e.g. dedupe')
    .option('--config <file>', 'YAML or JSON configuration file (default $ENGRAM_CONFIG)')
    .option('--project <project>', 'only this project')
    .option('--resume', 'go on from where an interrupted run of this job stopped')
    .option('--dry-run', 'only list what would change (dedupe: the duplicate pairs)')
    .option('--threshold <similarity>', 'dedupe: vector similarity from which memories merge')
    .option(
      '--archive-to <location>',
      'history-retention: archive the events to a directory or s3://bucket/prefix before erasing their texts (default $ENGRAM_HISTORY_ARCHIVE_TO)',
    )
    .option(
      '--older-than <age>',
      'history-retention: e.g. 90d (default $ENGRAM_HISTORY_TEXT_RETENTION)',
    )
    .option(
      '--embedder <name>',
      'reembed: the new embedder (local, local:<model>, hash, <provider>:<model>; default ENGRAM_EMBEDDER)',
    )
    .option('--batch-size <n>', 'reembed: memories per batch (default 256)')
    .option('--force', 'reembed: also projects already recorded with that embedder')
    .action(
      async (
        job: string,
        flags: {
          config?: string;
          project?: string;
          resume?: boolean;
          dryRun?: boolean;
          threshold?: string;
          archiveTo?: string;
          olderThan?: string;
          embedder?: string;
          batchSize?: string;
          force?: boolean;
        },
        command: Command,
      ) => {
        const { runMaintenanceCommand } = await import('./maintenance-command.js');
        const config = await configOf(command, env, {
          ...(flags.config === undefined ? {} : { configFile: flags.config }),
        });
        const outcomes = await runMaintenanceCommand(config, {
          job,
          ...(flags.project === undefined ? {} : { project: flags.project }),
          resume: flags.resume === true,
          dryRun: flags.dryRun === true,
          settings: definedSettings({
            threshold: flags.threshold,
            'archive-to': flags.archiveTo,
            'older-than': flags.olderThan,
            embedder: flags.embedder,
            'batch-size': flags.batchSize,
            force: flags.force ? 'true' : undefined,
          }),
          stdout,
          stderr: context.stderr ?? process.stderr,
        });
        const globals = command.optsWithGlobals<GlobalFlags>();
        const lines = Object.entries(outcomes).map(
          ([project, outcome]) =>
            `${project}: ${outcome.done} examined, ${outcome.changed} ${flags.dryRun ? 'would change' : 'changed'}\n`,
        );
        print(globals, lines.join('') || 'No projects.\n', { job, projects: outcomes });
      },
    );

  const keys = program
    .command('keys')
    .description(
      'manage API keys of the HTTP API (stored hashed in <data-dir>/api-keys.db, or in PostgreSQL with $ENGRAM_API_KEYS_URL)',
    );

  keys
    .command('create')
    .description('create an API key for a project; the key is printed once')
    .requiredOption('--project <project>', 'project whose memories the key reads and writes')
    .option('--name <name>', 'label, e.g. the application using the key')
    .option('--admin', 'the key may also reset whole scopes of the project (POST /v1/reset)')
    .option(
      '--access <level>',
      'read (get, list, search, history), write (default: also add, update, delete) or admin',
      parseAccess,
    )
    .action(
      (
        flags: { project: string; name?: string; admin?: boolean; access?: Access },
        command: Command,
      ) =>
        withKeyStore(command, async (store, globals) => {
          const created = await store.create({
            project: flags.project,
            ...(flags.name === undefined ? {} : { name: flags.name }),
            ...(flags.admin ? { admin: true } : {}),
            ...(flags.access === undefined || flags.admin ? {} : { access: flags.access }),
          });
          print(
            globals,
            `Created ${created.access === 'write' ? '' : `${created.access} `}API key ${created.id} for project "${created.project}".\n` +
              `Key (shown only now, store it safely):\n${created.key}\n`,
            created,
          );
        }),
    );

  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .action((_flags: unknown, command: Command) =>
      withKeyStore(command, async (store, globals) => {
        const list = await store.list();
        const lines = list.map(
          (key) =>
            `${key.id}  ${key.project}  ${key.revokedAt ? `revoked ${key.revokedAt}` : 'active'}  ${key.access}  ${key.createdAt}${key.name ? `  ${key.name}` : ''}\n`,
        );
        print(globals, lines.length > 0 ? lines.join('') : 'No API keys.\n', { results: list });
      }),
    );

  keys
    .command('revoke')
    .description('revoke an API key; it stops working at once')
    .argument('<key-id>', 'id shown by `keys list`, e.g. k_3f9a1c2b7d4e')
    .action((id: string, _flags: unknown, command: Command) =>
      withKeyStore(command, async (store, globals) => {
        const revoked = await store.revoke(id);
        print(globals, `Revoked ${revoked.id} (project "${revoked.project}").\n`, revoked);
      }),
    );
}
