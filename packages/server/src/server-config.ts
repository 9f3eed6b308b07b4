import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { type Environment, InvalidArgumentError, parseDuration } from '@engram/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { OidcConfig } from './access-tokens.js';

const source = 'server';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (minimum: number, maximum: number) => z.number().int().min(minimum).max(maximum);

/**
 * A model in the configuration file: a name (`anthropic:claude-sonnet-4-5`), or the name with
 * the role's own base URL, key and provider settings.
 */
const modelSetting = z.union([
  z.string().min(1),
  z
    .object({
      model: z.string().min(1),
      baseUrl: z.string().min(1).optional(),
      apiKey: z.string().min(1).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);

/** Schema of the configuration file (YAML or JSON); every field is optional. */
export const serverConfigFileSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: integer(0, 65_535).optional(),
    dataDir: z.string().min(1).optional(),
    logLevel: z.enum(logLevels).optional(),
    vectorStore: z
      .object({
        provider: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/, 'a package name such as sqlite or pgvector'),
        url: z.string().min(1).optional(),
        options: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
    historyStore: z
      .object({
        provider: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
        url: z.string().min(1).optional(),
        options: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional(),
    llm: modelSetting.optional(),
    embedder: modelSetting.optional(),
    reranker: modelSetting.optional(),
    rateLimit: z
      .object({
        requestsPerSecond: z.number().positive().max(1_000_000).optional(),
        burst: integer(1, 1_000_000).optional(),
        perProject: z
          .object({
            requestsPerSecond: z.number().positive().max(1_000_000),
            burst: integer(1, 1_000_000).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    bodyLimitBytes: integer(1024, 100 * 1024 * 1024).optional(),
    metrics: z
      .object({
        token: z.string().min(16).optional(),
        port: integer(0, 65_535).optional(),
        workerPort: integer(0, 65_535).optional(),
        host: z.string().min(1).optional(),
        projectLabels: z.boolean().optional(),
      })
      .strict()
      .optional(),
    tls: z
      .object({
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).optional(),
      })
      .strict()
      .optional(),
    historyTextRetention: z.string().min(1).optional(),
    historyArchiveTo: z.string().min(1).optional(),
    shutdownTimeoutMs: integer(0, 600_000).optional(),
    workers: integer(1, 64).optional(),
    queue: z
      .object({
        backend: z.enum(['memory', 'bullmq', 'rabbitmq', 'sqs']).optional(),
        redisUrl: z.string().min(1).optional(),
        rabbitmqUrl: z.string().min(1).optional(),
        sqsEndpoint: z.string().min(1).optional(),
        name: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/)
          .optional(),
        inProcessWorkers: integer(0, 64).optional(),
        attempts: integer(1, 100).optional(),
        backoffMs: integer(0, 3_600_000).optional(),
        lockDurationMs: integer(1000, 3_600_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** What the configuration file may hold. */
export type ServerConfigFile = z.infer<typeof serverConfigFileSchema>;

/** A store named by configuration: an adapter package (`@engram/<provider>`) and its settings. */
export interface StoreConfig {
  /** Adapter name: `sqlite`, `pgvector`, `qdrant`, ... (the package `@engram/<provider>`). */
  provider: string;
  /** Connection URL, passed to the adapter as `url`. */
  url?: string;
  /** Further adapter options, passed as they are. */
  options: Record<string, unknown>;
}

/** The validated server configuration. */
export interface ServerConfig {
  /** Interface to listen on. Default `0.0.0.0` (`127.0.0.1` with `insecureLocal`). */
  host: string;
  /** Port. Default 8080. */
  port: number;
  /** Data directory: API keys, the embedded store. Default `ENGRAM_HOME`, else `~/.engram`. */
  dataDir: string;
  /** Log level. Default `info`. */
  logLevel: (typeof logLevels)[number];
  /** Run without API keys, on 127.0.0.1 only. */
  insecureLocal: boolean;
  /**
   * Serve HTTPS directly (for deployments without an ingress or proxy): PEM certificate chain and
   * private key files, read at start; TLS 1.3 at least unless `minVersion` says TLSv1.2.
   */
  tls?: { cert: string; key: string; minVersion: 'TLSv1.2' | 'TLSv1.3' };
  /** OAuth2 / OIDC bearer tokens accepted beside API keys (`ENGRAM_OIDC_ISSUER`, ...). */
  oidc?: OidcConfig;
  /** Where memories live. Default the embedded SQLite store, one file per project. */
  vectorStore: StoreConfig;
  /**
   * Where history lives, when named (`ENGRAM_HISTORY_STORE`, or `historyStore` in the file):
   * `sqlite` without a URL or path keeps one file per project in `<dataDir>/history`; others
   * (e.g. `pgvector` with a URL) are shared by every project, separated by namespace. Unset:
   * the vector store's own history when it keeps one, else the SQLite file per project.
   * `memory` is refused.
   */
  historyStore?: StoreConfig;
  /** LLM name (`openai:<model>`, `ollama:<model>`, `none`); default from the environment. */
  llm?: string;
  /** Embedder name (`hash`, `openai:<model>`, ...); default from the environment. */
  embedder?: string;
  /** Reranker name (`cohere:rerank-v3.5`, `llm:<provider>:<model>`, ...); default none. */
  reranker?: string;
  /**
   * Per-key token bucket: sustained rate and burst size; `project`, when set, a bucket each
   * project's keys share. Shared by every replica through Redis when `REDIS_URL` is set.
   */
  rateLimit: {
    requestsPerSecond: number;
    burst: number;
    project?: { requestsPerSecond: number; burst: number };
  };
  /**
   * How long history events keep their texts, in milliseconds (`ENGRAM_HISTORY_TEXT_RETENTION`,
   * e.g. `90d`); older texts are erased hourly. Default: kept.
   */
  historyTextRetentionMs?: number;
  /**
   * Where history retention archives the events before erasing their texts
   * (`ENGRAM_HISTORY_ARCHIVE_TO`): a directory or `s3://bucket/prefix`, one folder per project.
   * Default: no archive.
   */
  historyArchiveTo?: string;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  bodyLimitBytes: number;
  /** How long shutdown waits for requests and jobs in flight. Default 25 s. */
  shutdownTimeoutMs: number;
  /**
   * How often each process looks whether `embedders.json` changed, i.e. a re-embedding finished
   * and open projects switch embedder (`ENGRAM_EMBEDDER_CHECK_MS`; 0: before every request).
   * Default 1000 ms.
   */
  embedderCheckMs?: number;
  /**
   * Server processes sharing the port (`--workers`, `ENGRAM_WORKERS`, `workers` in the file).
   * Unset: one per available core (one with an embedded Kuzu graph).
   */
  workers?: number;
  /** Asynchronous ingestion. */
  queue: {
    /**
     * Which queue carries asynchronous adds (`ENGRAM_QUEUE`): `bullmq` (Redis), `rabbitmq`,
     * `sqs`, or `memory` (in-process, lost on restart). Default `bullmq` when `REDIS_URL` is
     * set, else `memory`.
     */
    backend: 'memory' | 'bullmq' | 'rabbitmq' | 'sqs';
    /**
     * Redis (`REDIS_URL`): BullMQ's queue, the cross-process scope lock, and where RabbitMQ and
     * SQS job states are kept (else in `<dataDir>/jobs.db`, shared by one machine's processes).
     */
    redisUrl?: string;
    /** RabbitMQ (`RABBITMQ_URL`, `amqp://user:password@host:5672/vhost`). */
    rabbitmqUrl?: string;
    /**
     * Endpoint of an SQS-compatible server (`SQS_ENDPOINT`); unset with `sqs`: AWS SQS of
     * `AWS_REGION`, with the AWS SDK's credentials.
     */
    sqsEndpoint?: string;
    /** Queue name. Default `engram-add`. */
    name: string;
    /** Workers this process runs (0: only enqueue; run `engram worker` elsewhere). Default 2. */
    inProcessWorkers: number;
    /** Attempts per job, with exponential backoff. Default 3. */
    attempts: number;
    /** First retry delay. Default 1000 ms. */
    backoffMs: number;
    /** How long a worker holds a job before another may take it over. Default 30 s. */
    lockDurationMs: number;
  };
  /** Who may read Prometheus metrics, and what they show. */
  metrics: MetricsConfig;
  /** OpenTelemetry OTLP endpoint; tracing is on only when set. */
  otlpEndpoint?: string;
  /** Environment handed to adapters and model resolution. */
  env: Environment;
}

/** OIDC settings from ENGRAM_OIDC_*: an issuer turns them on and needs an audience. */
function oidcConfig(env: Environment): OidcConfig | undefined {
  const issuer = nonEmpty(env.ENGRAM_OIDC_ISSUER);
  if (issuer === undefined) return undefined;
  const audience = nonEmpty(env.ENGRAM_OIDC_AUDIENCE);
  if (audience === undefined) {
    fail(
      'ENGRAM_OIDC_AUDIENCE is missing: tokens are accepted only for a named audience (the client id or API identifier your issuer puts in "aud").',
    );
  }
  for (const [name, value] of [
    ['ENGRAM_OIDC_ISSUER', issuer],
    ['ENGRAM_OIDC_JWKS_URL', nonEmpty(env.ENGRAM_OIDC_JWKS_URL)],
  ] as const) {
    if (value !== undefined && !/^https?:\/\/\S+$/.test(value)) {
      fail(`${name} must be an http(s) URL, got "${value}".`);
    }
  }
  const jwksUrl = nonEmpty(env.ENGRAM_OIDC_JWKS_URL);
  return {
    issuer,
    audience,
    ...(jwksUrl ? { jwksUrl } : {}),
    projectClaim: nonEmpty(env.ENGRAM_OIDC_PROJECT_CLAIM) ?? 'engram_project',
    accessClaim: nonEmpty(env.ENGRAM_OIDC_ACCESS_CLAIM) ?? 'scope',
  };
}

/** `--tls-cert`/`--tls-key` (or ENGRAM_TLS_CERT/KEY, or `tls` in the file): both or neither. */
function tlsConfig(
  overrides: ServerConfigOverrides,
  env: Environment,
  file: { cert?: string; key?: string; minVersion?: 'TLSv1.2' | 'TLSv1.3' } | undefined,
): ServerConfig['tls'] {
  const cert = overrides.tlsCert ?? nonEmpty(env.ENGRAM_TLS_CERT) ?? file?.cert;
  const key = overrides.tlsKey ?? nonEmpty(env.ENGRAM_TLS_KEY) ?? file?.key;
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    fail(
      `${cert === undefined ? '--tls-cert (ENGRAM_TLS_CERT)' : '--tls-key (ENGRAM_TLS_KEY)'} is missing: TLS needs both the certificate chain and the private key (PEM files), or neither for plain HTTP behind a proxy that terminates TLS.`,
    );
  }
  for (const [flag, path] of [
    ['--tls-cert', cert],
    ['--tls-key', key],
  ] as const) {
    try {
      accessSync(resolve(path), constants.R_OK);
    } catch (error) {
      fail(`${flag} ${path}: the file cannot be read (${(error as Error).message}).`, error);
    }
  }
  const minVersion = nonEmpty(env.ENGRAM_TLS_MIN_VERSION) ?? file?.minVersion ?? 'TLSv1.3';
  if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') {
    fail(`ENGRAM_TLS_MIN_VERSION must be TLSv1.2 or TLSv1.3, got "${minVersion}".`);
  }
  return { cert: resolve(cert), key: resolve(key), minVersion };
}

/**
 * Where `/metrics` is served. Metrics are never open on the API port: they need the token there,
 * or a separate port that is not exposed beside the API (a Kubernetes Service or compose file
 * publishes only the API port).
 */
export interface MetricsConfig {
  /**
   * Bearer token for `/metrics` (`Authorization: Bearer <token>`, Prometheus'
   * `authorization.credentials`), on the API port and the metrics port. At least 16 characters.
   */
  token?: string;
  /** A separate port that serves only `/metrics` (without a token unless one is set). */
  port?: number;
  /**
   * The port of `engram worker`'s own `/metrics` (`ENGRAM_WORKER_METRICS_PORT`, or
   * `--metrics-port`). Default: `port`.
   */
  workerPort?: number;
  /** Interface of the metrics port. Default: the API's host. */
  host: string;
  /** Label per-project metrics (`engram_vector_count`) with project names. Default false: totals only. */
  projectLabels: boolean;
}

/** Flags that override the file and the environment. */
export interface ServerConfigOverrides {
  host?: string;
  port?: number;
  configFile?: string;
  insecureLocal?: boolean;
  dataDir?: string;
  workers?: number;
  /** `--tls-cert`: PEM certificate chain file. */
  tlsCert?: string;
  /** `--tls-key`: PEM private key file. */
  tlsKey?: string;
}

function fail(message: string, cause?: unknown): never {
  throw new InvalidArgumentError({
    source,
    message,
    ...(cause === undefined ? {} : { cause }),
  });
}

function readConfigFile(path: string): ServerConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    fail(`Cannot read the configuration file ${path}: ${(error as Error).message}`, error);
  }
  let value: unknown;
  try {
    value = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    fail(
      `The configuration file ${path} is not valid YAML or JSON: ${(error as Error).message}`,
      error,
    );
  }
  const parsed = serverConfigFileSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    fail(`The configuration file ${path} is invalid: ${problems}.`);
  }
  return parsed.data;
}

function envInteger(env: Environment, name: string, minimum: number, maximum: number) {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < minimum || parsed > maximum) {
    fail(`${name} must be a whole number from ${minimum} to ${maximum}, got "${value}".`);
  }
  return parsed;
}

function envNumber(env: Environment, name: string) {
  const value = env[name];
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    fail(`${name} must be a positive number, got "${value}".`);
  }
  return parsed;
}

/**
 * The per-project bucket: `ENGRAM_PROJECT_RATE_LIMIT_RPS` (and `_BURST`, default twice the
 * rate, at least 1) or `rateLimit.perProject` in the file; none when neither is set.
 */
function projectRateLimit(
  env: Environment,
  file: { requestsPerSecond: number; burst?: number | undefined } | undefined,
): { project?: { requestsPerSecond: number; burst: number } } {
  const requestsPerSecond =
    envNumber(env, 'ENGRAM_PROJECT_RATE_LIMIT_RPS') ?? file?.requestsPerSecond;
  if (requestsPerSecond === undefined) return {};
  const burst =
    envInteger(env, 'ENGRAM_PROJECT_RATE_LIMIT_BURST', 1, 1_000_000) ??
    file?.burst ??
    Math.max(1, Math.ceil(requestsPerSecond * 2));
  return { project: { requestsPerSecond, burst } };
}

function envBoolean(env: Environment, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === '') return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  fail(`${name} must be true or false, got "${env[name]}".`);
}

type ModelSetting = z.infer<typeof modelSetting>;

const roleOfSetting = (setting: 'llm' | 'embedder' | 'reranker') =>
  setting === 'llm' ? 'LLM' : setting === 'embedder' ? 'EMBEDDER' : 'RERANKER';

/** A model of the file as the `ENGRAM_<ROLE>*` variables the model wiring reads. */
function modelFromFile(
  setting: ModelSetting | undefined,
  role: 'llm' | 'embedder' | 'reranker' = 'llm',
): Record<string, string> {
  if (setting === undefined) return {};
  const prefix = `ENGRAM_${roleOfSetting(role)}`;
  if (typeof setting === 'string') return { [prefix]: setting };
  return {
    [prefix]: setting.model,
    ...(setting.baseUrl ? { [`${prefix}_BASE_URL`]: setting.baseUrl } : {}),
    ...(setting.apiKey ? { [`${prefix}_API_KEY`]: setting.apiKey } : {}),
    ...(setting.options ? { [`${prefix}_OPTIONS`]: JSON.stringify(setting.options) } : {}),
  };
}

/** The entries of `values` whose variable `env` leaves unset or empty. */
function unsetIn(env: Environment, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => !nonEmpty(env[name])));
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Builds the server configuration: flags win over environment variables, which win over the
 * configuration file (`--config`, else `ENGRAM_CONFIG`). Throws `InvalidArgumentError` naming
 * the setting to fix.
 */
export function loadServerConfig(
  overrides: ServerConfigOverrides = {},
  env: Environment = process.env,
): ServerConfig {
  const configFile = overrides.configFile ?? nonEmpty(env.ENGRAM_CONFIG);
  const file = configFile ? readConfigFile(resolve(configFile)) : {};
  const insecureLocal = overrides.insecureLocal === true;
  const logLevel = nonEmpty(env.ENGRAM_LOG_LEVEL) ?? file.logLevel ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) {
    fail(`ENGRAM_LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${logLevel}".`);
  }
  const provider = nonEmpty(env.ENGRAM_VECTOR_STORE) ?? file.vectorStore?.provider ?? 'sqlite';
  if (!/^[a-z0-9][a-z0-9-]*$/.test(provider)) {
    fail(
      `ENGRAM_VECTOR_STORE must be an adapter name such as sqlite or pgvector, got "${provider}".`,
    );
  }
  const vectorUrl = nonEmpty(env.ENGRAM_VECTOR_STORE_URL) ?? file.vectorStore?.url;
  const vectorStore: StoreConfig = {
    provider,
    options: file.vectorStore?.provider === provider ? (file.vectorStore.options ?? {}) : {},
    ...(vectorUrl ? { url: vectorUrl } : {}),
  };
  const historyProvider = nonEmpty(env.ENGRAM_HISTORY_STORE) ?? file.historyStore?.provider;
  if (historyProvider !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(historyProvider)) {
    fail(
      `ENGRAM_HISTORY_STORE must be an adapter name such as sqlite or pgvector, got "${historyProvider}".`,
    );
  }
  if (historyProvider === 'memory') {
    const setting = nonEmpty(env.ENGRAM_HISTORY_STORE)
      ? 'ENGRAM_HISTORY_STORE=memory'
      : 'historyStore.provider: memory (configuration file)';
    fail(
      `${setting} would keep history in process memory: lost on restart and different in every replica. Leave it unset (the vector store's own history, else a SQLite file per project in <dataDir>/history), or name a durable store such as sqlite or pgvector.`,
    );
  }
  const historyUrl = nonEmpty(env.ENGRAM_HISTORY_STORE_URL) ?? file.historyStore?.url;
  const historyStore: StoreConfig | undefined = historyProvider
    ? {
        provider: historyProvider,
        options:
          file.historyStore?.provider === historyProvider ? (file.historyStore.options ?? {}) : {},
        ...(historyUrl ? { url: historyUrl } : {}),
      }
    : undefined;
  const envPort = envInteger(env, 'ENGRAM_PORT', 0, 65_535);
  const port = overrides.port ?? envPort ?? file.port ?? 8080;
  const requestedHost = overrides.host ?? nonEmpty(env.ENGRAM_HOST) ?? file.host;
  const host = insecureLocal ? '127.0.0.1' : (requestedHost ?? '0.0.0.0');
  const redisUrl = nonEmpty(env.REDIS_URL) ?? file.queue?.redisUrl;
  const rabbitmqUrl = nonEmpty(env.RABBITMQ_URL) ?? file.queue?.rabbitmqUrl;
  const sqsEndpoint = nonEmpty(env.SQS_ENDPOINT) ?? file.queue?.sqsEndpoint;
  const backend =
    nonEmpty(env.ENGRAM_QUEUE) ?? file.queue?.backend ?? (redisUrl ? 'bullmq' : 'memory');
  if (!['memory', 'bullmq', 'rabbitmq', 'sqs'].includes(backend)) {
    fail(`ENGRAM_QUEUE must be bullmq, rabbitmq, sqs or memory, got "${backend}".`);
  }
  if (backend === 'bullmq' && !redisUrl) {
    fail('ENGRAM_QUEUE=bullmq needs REDIS_URL (e.g. redis://127.0.0.1:6379).');
  }
  if (backend === 'rabbitmq' && !rabbitmqUrl) {
    fail('ENGRAM_QUEUE=rabbitmq needs RABBITMQ_URL (e.g. amqp://guest:guest@127.0.0.1:5672).');
  }
  if (rabbitmqUrl && !/^amqps?:\/\//.test(rabbitmqUrl)) {
    fail(`RABBITMQ_URL must start with amqp:// or amqps://, got "${rabbitmqUrl}".`);
  }
  const models = {
    LLM: modelFromFile(file.llm, 'llm'),
    EMBEDDER: modelFromFile(file.embedder, 'embedder'),
    RERANKER: modelFromFile(file.reranker, 'reranker'),
  };
  const llm = nonEmpty(env.ENGRAM_LLM) ?? models.LLM.ENGRAM_LLM;
  const embedder = nonEmpty(env.ENGRAM_EMBEDDER) ?? models.EMBEDDER.ENGRAM_EMBEDDER;
  const reranker = nonEmpty(env.ENGRAM_RERANKER) ?? models.RERANKER.ENGRAM_RERANKER;
  const otlpEndpoint = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const metricsToken = nonEmpty(env.ENGRAM_METRICS_TOKEN) ?? file.metrics?.token;
  if (metricsToken !== undefined && metricsToken.length < 16) {
    fail('ENGRAM_METRICS_TOKEN must be at least 16 characters long (e.g. `openssl rand -hex 32`).');
  }
  const metricsPort = envInteger(env, 'ENGRAM_METRICS_PORT', 0, 65_535) ?? file.metrics?.port;
  const metricsHost = nonEmpty(env.ENGRAM_METRICS_HOST) ?? file.metrics?.host;
  const workerMetricsPort =
    envInteger(env, 'ENGRAM_WORKER_METRICS_PORT', 0, 65_535) ?? file.metrics?.workerPort;
  const retention =
    nonEmpty(env.ENGRAM_HISTORY_TEXT_RETENTION) ?? nonEmpty(file.historyTextRetention);
  const historyTextRetentionMs =
    retention === undefined || retention === 'off'
      ? undefined
      : parseDuration(retention, 'ENGRAM_HISTORY_TEXT_RETENTION (historyTextRetention)');
  const historyArchiveTo =
    nonEmpty(env.ENGRAM_HISTORY_ARCHIVE_TO) ?? nonEmpty(file.historyArchiveTo);
  const workers = overrides.workers ?? envInteger(env, 'ENGRAM_WORKERS', 1, 64) ?? file.workers;
  const tls = tlsConfig(overrides, env, file.tls);
  const oidc = oidcConfig(env);
  const config: ServerConfig = {
    host,
    port,
    dataDir: resolve(
      overrides.dataDir ?? nonEmpty(env.ENGRAM_HOME) ?? file.dataDir ?? join(homedir(), '.engram'),
    ),
    logLevel: logLevel as ServerConfig['logLevel'],
    insecureLocal,
    ...(tls ? { tls } : {}),
    ...(oidc ? { oidc } : {}),
    vectorStore,
    ...(historyStore ? { historyStore } : {}),
    ...(llm ? { llm } : {}),
    ...(embedder ? { embedder } : {}),
    ...(reranker ? { reranker } : {}),
    rateLimit: {
      requestsPerSecond:
        envNumber(env, 'ENGRAM_RATE_LIMIT_RPS') ?? file.rateLimit?.requestsPerSecond ?? 50,
      burst:
        envInteger(env, 'ENGRAM_RATE_LIMIT_BURST', 1, 1_000_000) ?? file.rateLimit?.burst ?? 100,
      ...projectRateLimit(env, file.rateLimit?.perProject),
    },
    ...(historyTextRetentionMs === undefined ? {} : { historyTextRetentionMs }),
    ...(historyArchiveTo === undefined ? {} : { historyArchiveTo }),
    bodyLimitBytes: file.bodyLimitBytes ?? 1024 * 1024,
    shutdownTimeoutMs:
      envInteger(env, 'ENGRAM_SHUTDOWN_TIMEOUT_MS', 0, 600_000) ?? file.shutdownTimeoutMs ?? 25_000,
    embedderCheckMs: envInteger(env, 'ENGRAM_EMBEDDER_CHECK_MS', 0, 3_600_000) ?? 1000,
    ...(workers === undefined ? {} : { workers }),
    queue: {
      backend: backend as ServerConfig['queue']['backend'],
      ...(redisUrl ? { redisUrl } : {}),
      ...(rabbitmqUrl ? { rabbitmqUrl } : {}),
      ...(sqsEndpoint ? { sqsEndpoint } : {}),
      name: file.queue?.name ?? 'engram-add',
      inProcessWorkers:
        envInteger(env, 'ENGRAM_INPROCESS_WORKERS', 0, 64) ?? file.queue?.inProcessWorkers ?? 2,
      attempts: file.queue?.attempts ?? 3,
      backoffMs: file.queue?.backoffMs ?? 1000,
      lockDurationMs:
        envInteger(env, 'ENGRAM_JOB_LOCK_MS', 1000, 3_600_000) ??
        file.queue?.lockDurationMs ??
        30_000,
    },
    metrics: {
      ...(metricsToken ? { token: metricsToken } : {}),
      ...(metricsPort === undefined ? {} : { port: metricsPort }),
      ...(workerMetricsPort === undefined ? {} : { workerPort: workerMetricsPort }),
      host: insecureLocal ? '127.0.0.1' : (metricsHost ?? host),
      projectLabels:
        envBoolean(env, 'ENGRAM_METRICS_PROJECT_LABELS') ?? file.metrics?.projectLabels ?? false,
    },
    ...(otlpEndpoint ? { otlpEndpoint } : {}),
    // The file's model settings become the variables the model wiring reads; set variables win.
    env: {
      ...env,
      ...unsetIn(env, { ...models.LLM, ...models.EMBEDDER, ...models.RERANKER }),
      ...(llm ? { ENGRAM_LLM: llm } : {}),
      ...(embedder ? { ENGRAM_EMBEDDER: embedder } : {}),
      ...(reranker ? { ENGRAM_RERANKER: reranker } : {}),
    },
  };
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    fail(`REDIS_URL must start with redis:// or rediss://, got "${redisUrl}".`);
  }
  return config;
}
