import { isRetryableNetworkError, optionalSettingLoader } from '@engram/adapter-kit';
import { InvalidArgumentError } from '@engram/core';
import cassandra from 'cassandra-driver';

const source = 'cassandra';

/** The part of a `cassandra-driver` client the store uses; any connected `Client` fits. */
export type CassandraClient = Pick<cassandra.Client, 'execute' | 'connect' | 'shutdown'>;

/** How to reach Apache Cassandra 5 or DataStax Astra DB, when no client is given. */
export interface CassandraConnectionOptions {
  /**
   * `cassandra://host[:port][,host[:port]...]/<local data center>`. Default: `CASSANDRA_URL`,
   * else `cassandra://127.0.0.1:9042/datacenter1`. Ignored with `secureConnectBundle`.
   */
  url?: string;
  /** User name of the password authenticator. Default: `CASSANDRA_USERNAME`. */
  username?: string;
  /** Password of the password authenticator. Default: `CASSANDRA_PASSWORD`. */
  password?: string;
  /**
   * Astra DB: path of the database's secure connect bundle (zip). Default:
   * `ASTRA_DB_SECURE_BUNDLE_PATH`. With it, `url` is not used and the keyspace is not created.
   */
  secureConnectBundle?: string;
  /** Astra DB: an application token (`AstraCS:...`). Default: `ASTRA_DB_APPLICATION_TOKEN`. */
  applicationToken?: string;
}

/** A client connected on first use and shut down once; a failed connection is retried next time. */
export interface CassandraConnection {
  client(): Promise<CassandraClient>;
  /** Whether the connection goes to Astra DB (a secure connect bundle). */
  readonly astra: boolean;
  close(): Promise<void>;
}

const setting = optionalSettingLoader(source);

/** Contact points and local data center of a `cassandra://` URL. */
export function parseCassandraUrl(url: string): {
  contactPoints: string[];
  localDataCenter: string;
} {
  const match = /^cassandra:\/\/([^/]+)(?:\/([^/?#]*))?\/?$/.exec(url.trim());
  if (!match) {
    throw new InvalidArgumentError({
      source,
      message: `url "${url}" is not cassandra://host[:port][,host[:port]]/<data center>; e.g. cassandra://127.0.0.1:9042/datacenter1.`,
    });
  }
  const contactPoints = match[1]!
    .split(',')
    .map((point) => (point.includes(':') ? point : `${point}:9042`));
  return { contactPoints, localDataCenter: decodeURIComponent(match[2] || 'datacenter1') };
}

/** Opens a `cassandra-driver` client from the options, falling back to environment variables. */
export function createCassandraConnection(
  options: CassandraConnectionOptions,
): CassandraConnection {
  const bundle = setting(
    options.secureConnectBundle,
    'secureConnectBundle',
    'ASTRA_DB_SECURE_BUNDLE_PATH',
  );
  let connecting: Promise<CassandraClient> | undefined;
  let own: cassandra.Client | undefined;
  return {
    astra: bundle !== undefined,
    client() {
      connecting ??= (async () => {
        const token = setting(
          options.applicationToken,
          'applicationToken',
          'ASTRA_DB_APPLICATION_TOKEN',
        );
        const username = setting(options.username, 'username', 'CASSANDRA_USERNAME');
        const password = setting(options.password, 'password', 'CASSANDRA_PASSWORD');
        const credentials = token
          ? { username: 'token', password: token }
          : username
            ? { username, password: password ?? '' }
            : undefined;
        const where = bundle
          ? { cloud: { secureConnectBundle: bundle } }
          : parseCassandraUrl(
              setting(options.url, 'url', 'CASSANDRA_URL') ??
                'cassandra://127.0.0.1:9042/datacenter1',
            );
        const client = new cassandra.Client({
          ...where,
          ...(credentials ? { credentials } : {}),
          socketOptions: { connectTimeout: 10_000, readTimeout: 60_000 },
          // Fail a call instead of retrying forever against a node that is not there.
          policies: {
            reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(1_000),
          },
        });
        own = client;
        await client.connect();
        return client;
      })();
      connecting.catch(() => {
        connecting = undefined;
        const failed = own;
        own = undefined;
        void failed?.shutdown().catch(() => undefined);
      });
      return connecting;
    },
    async close() {
      const client = own;
      own = undefined;
      connecting = undefined;
      await client?.shutdown();
    },
  };
}

const retryableNames = new Set([
  'NoHostAvailableError',
  'OperationTimedOutError',
  'BusyConnectionError',
]);
// Server error codes: Unavailable (0x1000), Overloaded (0x1001), Is_bootstrapping (0x1002),
// Write_timeout (0x1100), Read_timeout (0x1200).
const retryableCodes = new Set([0x1000, 0x1001, 0x1002, 0x1100, 0x1200]);

/** Whether a failed call may succeed when repeated: no host, a timeout, or an overloaded node. */
export function isRetryableCassandraError(error: unknown): boolean {
  if (isRetryableNetworkError(error)) return true;
  const { name, code } = (error ?? {}) as { name?: string; code?: number };
  return (
    (name !== undefined && retryableNames.has(name)) ||
    (code !== undefined && retryableCodes.has(code))
  );
}

/** Whether the server says the table (or keyspace) does not exist. */
export function isUnknownTable(error: unknown): boolean {
  return /unconfigured table|table .* does not exist|keyspace .* does not exist/i.test(
    error instanceof Error ? error.message : String(error),
  );
}
