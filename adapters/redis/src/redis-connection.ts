import {
  isRetryableNetworkError,
  loadOptionalSetting,
  retryableNetworkCodes,
} from '@engram/adapter-kit';
import { createClient } from 'redis';

const source = 'redis';

/** The part of a node-redis client the store uses; any connected `createClient()` fits. */
export interface RedisCommandClient {
  /** Sends one raw command. */
  sendCommand<T = unknown>(args: ReadonlyArray<string | Buffer>, options?: object): Promise<T>;
  /** Starts a MULTI/EXEC transaction. */
  multi(): {
    addCommand(args: ReadonlyArray<string | Buffer>): unknown;
    exec(): Promise<unknown>;
  };
}

/** How to reach a Redis server, when no client is given. */
export interface RedisConnectionOptions {
  /** Server URL, e.g. `redis://localhost:6379`. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  url?: string;
  /** Password, when not in the URL. Default: `REDIS_PASSWORD`. */
  password?: string;
  /** ACL user name, when not in the URL. Default: `REDIS_USERNAME`. */
  username?: string;
}

/** A client connected on first use and closed once; a failed connection is retried next time. */
export interface RedisConnection {
  client(): Promise<RedisCommandClient>;
  close(): Promise<void>;
}

function setting(value: string | undefined, settingName: string, environmentVariableName: string) {
  return loadOptionalSetting({ value, settingName, environmentVariableName, source });
}

/** Opens a node-redis client (RESP2) from the options, falling back to `REDIS_*` variables. */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  let connecting: Promise<RedisCommandClient> | undefined;
  let own: { close(): Promise<void>; destroy(): void } | undefined;
  return {
    client() {
      connecting ??= (async () => {
        const username = setting(options.username, 'username', 'REDIS_USERNAME');
        const password = setting(options.password, 'password', 'REDIS_PASSWORD');
        const client = createClient({
          url: setting(options.url, 'url', 'REDIS_URL') ?? 'redis://localhost:6379',
          ...(username ? { username } : {}),
          ...(password ? { password } : {}),
          RESP: 2,
          socket: {
            connectTimeout: 10_000,
            // Fail the call instead of waiting forever for a server that is not there.
            reconnectStrategy: (retries: number, cause: Error) =>
              retries >= 3 ? cause : Math.min(200 * 2 ** retries, 2_000),
          },
        });
        client.on('error', () => {
          // errors reach the caller through the failed command
        });
        own = client;
        await client.connect();
        return client as unknown as RedisCommandClient;
      })();
      connecting.catch(() => {
        connecting = undefined;
        const failed = own;
        own = undefined;
        failed?.destroy();
      });
      return connecting;
    },
    async close() {
      const client = own;
      own = undefined;
      connecting = undefined;
      if (!client) return;
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
}

const retryableName =
  /SocketClosedUnexpectedly|ConnectionTimeout|ClientClosed|ClientOffline|Reconnect/i;
const retryableMessage =
  /^LOADING|^BUSY|^TRYAGAIN|^CLUSTERDOWN|^MASTERDOWN|socket|timeout|timed out/i;

/**
 * Whether a failed Redis command may succeed when repeated: a lost or refused connection (node-redis
 * often keeps only the message of the socket error), a timeout, or a server that is loading, busy
 * or failing over.
 */
export function isRetryableRedisError(error: unknown): boolean {
  if (isRetryableNetworkError(error)) return true;
  if (retryableName.test((error as { name?: string } | null)?.name ?? '')) return true;
  const message = error instanceof Error ? error.message : String(error);
  return (
    retryableMessage.test(message) ||
    [...retryableNetworkCodes].some((code) => message.includes(code))
  );
}
