import { isRetryableNetworkError, optionalSettingLoader } from '@engram/adapter-kit';
import { InvalidArgumentError } from '@engram/core';
import type { FtCommandClient } from '@engram/redis-compatible';
import {
  Batch,
  ClosingError,
  ConnectionError,
  Decoder,
  GlideClient,
  type GlideString,
  ProtocolVersion,
  TimeoutError,
} from '@valkey/valkey-glide';

const source = 'valkey';

/** The part of a Valkey GLIDE standalone client the store uses; any `GlideClient` fits. */
export type ValkeyGlideClient = Pick<GlideClient, 'customCommand' | 'exec' | 'close'>;

/** How to reach a Valkey server, when no client is given. */
export interface ValkeyConnectionOptions {
  /**
   * `valkey://[user:password@]host[:port][/db]` (`redis://` and `rediss://`/`valkeys://` for TLS
   * also work). Default: `VALKEY_URL`, else `valkey://localhost:6379`.
   */
  url?: string;
  /** ACL user name, when not in the URL. Default: `VALKEY_USERNAME`. */
  username?: string;
  /** Password, when not in the URL. Default: `VALKEY_PASSWORD`. */
  password?: string;
  /** Timeout of each request in milliseconds (GLIDE `requestTimeout`). Default 30,000. */
  requestTimeoutMs?: number;
}

/** A client connected on first use and closed once; a failed connection is retried next time. */
export interface ValkeyConnection {
  client(): Promise<ValkeyGlideClient>;
  close(): Promise<void>;
}

const setting = optionalSettingLoader(source);

/** Host, port, database, TLS and credentials of a Valkey URL. */
export function parseValkeyUrl(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidArgumentError({
      source,
      message: `url "${url}" is not a URL; e.g. valkey://localhost:6379.`,
      cause,
    });
  }
  if (!['valkey:', 'valkeys:', 'redis:', 'rediss:'].includes(parsed.protocol)) {
    throw new InvalidArgumentError({
      source,
      message: `url "${url}" must start with valkey://, valkeys://, redis:// or rediss://.`,
    });
  }
  const database = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname || 'localhost',
    port: parsed.port ? Number(parsed.port) : 6379,
    useTLS: parsed.protocol === 'valkeys:' || parsed.protocol === 'rediss:',
    ...(database ? { databaseId: Number(database) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
  };
}

/** Opens a GLIDE client (RESP2, the reply shapes the FT.* parsers read) from the options. */
export function createValkeyConnection(options: ValkeyConnectionOptions): ValkeyConnection {
  let connecting: Promise<ValkeyGlideClient> | undefined;
  let own: GlideClient | undefined;
  return {
    client() {
      connecting ??= (async () => {
        const target = parseValkeyUrl(
          setting(options.url, 'url', 'VALKEY_URL') ?? 'valkey://localhost:6379',
        );
        const username =
          setting(options.username, 'username', 'VALKEY_USERNAME') ?? target.username;
        const password =
          setting(options.password, 'password', 'VALKEY_PASSWORD') ?? target.password;
        own = await GlideClient.createClient({
          addresses: [{ host: target.host, port: target.port }],
          useTLS: target.useTLS,
          ...(target.databaseId === undefined ? {} : { databaseId: target.databaseId }),
          ...(password ? { credentials: { password, ...(username ? { username } : {}) } } : {}),
          protocol: ProtocolVersion.RESP2,
          requestTimeout: options.requestTimeoutMs ?? 30_000,
          clientName: 'engram',
        });
        return own;
      })();
      connecting.catch(() => {
        connecting = undefined;
        own = undefined;
      });
      return connecting;
    },
    async close() {
      const client = own;
      own = undefined;
      connecting = undefined;
      client?.close();
    },
  };
}

/** The FT.* store's view of a GLIDE client: raw commands and MULTI/EXEC batches. */
export function glideCommandClient(client: ValkeyGlideClient): FtCommandClient {
  return {
    send: (args, options) =>
      client.customCommand(args as GlideString[], {
        decoder: options?.binary ? Decoder.Bytes : Decoder.String,
      }),
    async transaction(commands) {
      const batch = new Batch(true);
      for (const command of commands) batch.customCommand(command as GlideString[]);
      const result = await client.exec(batch, false, { decoder: Decoder.String });
      return Array.isArray(result) ? result : null;
    },
  };
}

/**
 * Whether a failed Valkey command may succeed when repeated: a lost or refused connection, a
 * timeout, or a server that is loading, busy or failing over.
 */
export function isRetryableValkeyError(error: unknown): boolean {
  if (isRetryableNetworkError(error)) return true;
  if (
    error instanceof ConnectionError ||
    error instanceof TimeoutError ||
    error instanceof ClosingError
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)|connection refused|timed out/i.test(
    message,
  );
}
