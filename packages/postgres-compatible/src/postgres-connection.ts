import { toPostgresError } from './postgres-errors.js';

/** What the helpers need of a node-postgres `Client` or `Pool`: `query`. */
export interface PostgresQueryable {
  /** Sends one statement with positional parameters. */
  query(text: string, values?: unknown[]): Promise<unknown>;
}

/** What the helpers need of a node-postgres `PoolClient`. */
export interface PostgresPoolClient extends PostgresQueryable {
  /** Gives the client back to its pool; `true` (or an error) destroys its connection instead. */
  release(destroy?: boolean | Error): void;
}

/** What the helpers need of a node-postgres `Pool`. */
export interface PostgresPool<Client extends PostgresPoolClient = PostgresPoolClient>
  extends PostgresQueryable {
  /** Takes a client from the pool, opening a connection when none is idle. */
  connect(): Promise<Client>;
  /** Closes every connection of the pool. */
  end(): Promise<void>;
  /** Listens to the pool's events; the helpers listen to `error`. */
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** The pool a store works with: the one it was given, or one it creates on first use. */
export interface PoolHolder<Pool> {
  /** The pool; creates it on the first call when none was given. */
  get(): Pool;
  /**
   * Ends the pool when the store created it (a pool passed in belongs to its owner); a failure
   * is an `AdapterCallError` of the store's source.
   */
  end(): Promise<void>;
}

/**
 * Holds a store's pool. Nothing is created until `get()`; a created pool gets an `error`
 * listener, since an idle connection that the server drops emits `error` on the pool and without
 * a listener that would end the process (the next checkout simply opens a new connection).
 */
export function holdPool<Pool extends PostgresPool<PostgresPoolClient>>(options: {
  /** The adapter, for errors. */
  source: string;
  /** A pool passed in by the caller; used as is and never ended. */
  pool?: Pool | undefined;
  /** Creates the pool when none was passed in; may throw when settings are missing. */
  create: () => Pool;
}): PoolHolder<Pool> {
  let created: Pool | undefined;
  return {
    get() {
      if (options.pool) return options.pool;
      if (!created) {
        const pool = options.create();
        pool.on('error', () => {});
        created = pool;
      }
      return created;
    },
    async end() {
      const owned = created;
      created = undefined;
      try {
        await owned?.end();
      } catch (error) {
        throw toPostgresError(error, options.source, 'close');
      }
    },
  };
}

const brokenClients = new WeakSet<object>();

/**
 * Runs `work` between `begin` (default `BEGIN`) and `COMMIT`, rolling back when it fails. A
 * client whose ROLLBACK failed too is destroyed by {@link withPoolClient} instead of reused.
 */
export async function transaction<T>(
  client: PostgresQueryable,
  work: () => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  await client.query(begin);
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => brokenClients.add(client));
    throw error;
  }
}

/**
 * Takes a client from the pool for `work` and gives it back. A connection that failed below SQL
 * (dropped, timed out: an error with no SQLSTATE) or could not roll back is destroyed, not reused.
 */
export async function withPoolClient<Client extends PostgresPoolClient, T>(
  pool: { connect(): Promise<Client> },
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    return await work(client);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    const lost =
      failure !== undefined && typeof (failure as { code?: unknown } | null)?.code !== 'string';
    client.release(lost || brokenClients.has(client));
  }
}

/**
 * Memoizes an async initialization (create a schema, load an extension): later calls share the
 * first result; a failed one is tried again on the next call.
 */
export function onceSucceeded<T>(initialize: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= initialize().catch((error: unknown) => {
      promise = undefined;
      throw error;
    });
    return promise;
  };
}
