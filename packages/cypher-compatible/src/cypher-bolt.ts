import {
  isRetryableNetworkError,
  loadOptionalSetting,
  toAdapterCallError,
} from '@engram/adapter-kit';
import { type EngramError, InvalidArgumentError } from '@engram/core';
import type { CypherConnection } from './cypher-graph-store.js';
import type { CypherRow } from './cypher-records.js';
import type { CypherStatement } from './cypher-statements.js';

/** What runs a statement over Bolt: a session or a managed transaction of `neo4j-driver`. */
export interface BoltRunner {
  run(
    text: string,
    parameters: Record<string, unknown>,
  ): PromiseLike<{ records: { toObject(): object }[] }>;
}

/** The part of a `neo4j-driver` session the store uses. */
export interface BoltSession extends BoltRunner {
  executeRead<T>(work: (transaction: BoltRunner) => Promise<T>): Promise<T>;
  executeWrite<T>(work: (transaction: BoltRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The part of a `neo4j-driver` driver the store uses. */
export interface BoltDriver {
  session(config: { defaultAccessMode?: 'READ' | 'WRITE'; database?: string }): BoltSession;
  close(): Promise<void>;
}

/** The part of the `neo4j-driver` module the store uses; adapters pass the module itself. */
export interface BoltDriverModule {
  driver(url: string, authToken?: unknown, config?: object): BoltDriver;
  auth: { basic(username: string, password: string): unknown };
  int(value: number): unknown;
}

/**
 * Connection settings of a graph store on a Bolt server, typed with the driver's own `Driver`
 * and `Config`. Unset values come from `<PREFIX>_URL`, `<PREFIX>_USERNAME`, `<PREFIX>_PASSWORD`
 * and `<PREFIX>_DATABASE` (e.g. `NEO4J_URL`).
 */
export interface BoltGraphStoreSettings<Driver = BoltDriver, Config = object> {
  /** A configured driver to use instead of connection settings. The store never closes it. */
  driver?: Driver;
  /** Bolt URL of the server. Default: `<PREFIX>_URL`, else `bolt://127.0.0.1:7687`. */
  url?: string;
  /** User name for basic authentication. Default: `<PREFIX>_USERNAME`; none means no authentication. */
  username?: string;
  /** Password for basic authentication. Default: `<PREFIX>_PASSWORD`. */
  password?: string;
  /**
   * Driver settings (pool size, timeouts, `maxTransactionRetryTime`, encryption) when the store
   * creates the driver.
   */
  driverConfig?: Config;
  /** Database to use. Default: `<PREFIX>_DATABASE`, else the server's default database. */
  database?: string;
  /**
   * Ignored: accepted so that `ENGRAM_GRAPH=<adapter>` (which passes a data path to every graph
   * store) works; the server keeps the data.
   */
  path?: string;
  /** Environment to read defaults from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Options of {@link createBoltConnection}. */
export interface BoltConnectionOptions {
  /** The adapter, for error prefixes and the driver's user agent (`engram-<source>`). */
  source: string;
  /** The server's name in messages, e.g. `Neo4j`. */
  product: string;
  /** Prefix of the environment variables, e.g. `NEO4J`. */
  environmentPrefix: string;
  /** What the caller passed. */
  settings: BoltGraphStoreSettings;
  /** The `neo4j-driver` module (default export). */
  neo4j: BoltDriverModule;
}

/** A {@link CypherConnection} over Bolt, plus what schema changes and `close` need. */
export interface BoltConnection extends CypherConnection {
  /** Runs one statement outside explicit transactions, as schema changes require. */
  autoCommit(statement: CypherStatement): Promise<CypherRow[]>;
  /** Closes the driver if this connection created it. */
  close(): Promise<void>;
}

/** Parameters Bolt must receive as integers: it sends JavaScript numbers as floats. */
const integerParameters = new Set(['topK', 'limit', 'candidates', 'dimensions']);

/**
 * Connects lazily through `neo4j-driver`: the driver is created on first use (so the factory
 * does no I/O), each transaction gets its own session, and only a driver created here is closed.
 */
export function createBoltConnection(options: BoltConnectionOptions): BoltConnection {
  const { source, neo4j, settings } = options;
  const environment = settings.env ?? process.env;
  const setting = (value: string | undefined, name: string) =>
    loadOptionalSetting({
      value,
      environmentVariableName: `${options.environmentPrefix}_${name.toUpperCase()}`,
      settingName: name,
      source,
      environment,
    });
  const database = setting(settings.database, 'database');
  let driver = settings.driver;
  const ownsDriver = driver === undefined;

  function open(): BoltDriver {
    if (driver) return driver;
    const url = setting(settings.url, 'url') ?? 'bolt://127.0.0.1:7687';
    const username = setting(settings.username, 'username');
    const password = setting(settings.password, 'password') ?? '';
    try {
      driver = neo4j.driver(
        url,
        username === undefined ? undefined : neo4j.auth.basic(username, password),
        { userAgent: `engram-${source}`, ...settings.driverConfig },
      );
    } catch (error) {
      throw new InvalidArgumentError({
        source,
        message: `Cannot create a ${options.product} driver for ${url}: ${(error as Error).message}`,
        cause: error,
      });
    }
    return driver;
  }

  function session(mode?: 'read' | 'write'): BoltSession {
    return open().session({
      ...(mode === undefined ? {} : { defaultAccessMode: mode === 'read' ? 'READ' : 'WRITE' }),
      ...(database ? { database } : {}),
    });
  }

  async function rows(runner: BoltRunner, statement: CypherStatement): Promise<CypherRow[]> {
    const parameters = Object.fromEntries(
      Object.entries(statement.parameters).map(([key, value]) => [
        key,
        integerParameters.has(key) && typeof value === 'number' ? neo4j.int(value) : value,
      ]),
    );
    const result = await runner.run(statement.text, parameters);
    return result.records.map((record) => record.toObject() as CypherRow);
  }

  async function withSession<T>(
    mode: 'read' | 'write' | undefined,
    body: (s: BoltSession) => Promise<T>,
  ) {
    const current = session(mode);
    try {
      return await body(current);
    } finally {
      await current.close().catch(() => {});
    }
  }

  return {
    transaction(mode, work) {
      const body = (transaction: BoltRunner) => work((statement) => rows(transaction, statement));
      return withSession(mode, (current) =>
        mode === 'read' ? current.executeRead(body) : current.executeWrite(body),
      );
    },
    autoCommit(statement) {
      return withSession(undefined, (current) => rows(current, statement));
    },
    async close() {
      if (driver && ownsDriver) await driver.close().catch(() => {});
      driver = undefined;
    },
  };
}

/** The status code of a driver error (`Neo.ClientError...`, `ServiceUnavailable`), if any. */
export function boltErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current != null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether the same call may succeed when repeated: the server is unreachable or restarting
 * (`ServiceUnavailable`, `SessionExpired`, socket errors), or the error is transient (deadlocks,
 * lock timeouts, conflicting transactions: `Neo.TransientError.*`, `Memgraph.TransientError.*`).
 */
export function isRetryableBoltError(error: unknown): boolean {
  if ((error as { retriable?: unknown } | null)?.retriable === true) return true;
  const code = boltErrorCode(error);
  if (code === 'ServiceUnavailable' || code === 'SessionExpired') return true;
  if (code?.includes('.TransientError.')) return true;
  return isRetryableNetworkError(error);
}

/** Turns anything the driver throws into an `AdapterCallError` of `source` (Engram errors pass through). */
export function toBoltError(error: unknown, action: string, source: string): EngramError {
  const code = boltErrorCode(error);
  return toAdapterCallError(error, {
    source,
    action,
    ...(code === undefined ? {} : { status: code }),
    isRetryable: isRetryableBoltError(error),
  });
}
