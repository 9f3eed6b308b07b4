import {
  isRetryableNetworkError,
  loadOptionalSetting,
  retryableNetworkCodes,
} from '@engram/adapter-kit';
import weaviate, { type WeaviateClient } from 'weaviate-client';

const source = 'weaviate';

/** How to reach a Weaviate server, when no client is given. */
export interface WeaviateConnectionOptions {
  /**
   * REST endpoint, e.g. `http://localhost:8080` or `https://my-cluster.weaviate.cloud`.
   * Default: `WEAVIATE_URL`, else `http://localhost:8080`.
   */
  url?: string;
  /** gRPC port on the same host. Default: `WEAVIATE_GRPC_PORT`, else 443 for https, else 50051. */
  grpcPort?: number;
  /** gRPC host, when it differs from the REST host. Default: `WEAVIATE_GRPC_HOST`, else the URL's host. */
  grpcHost?: string;
  /** API key sent as a bearer token. Default: `WEAVIATE_API_KEY`. */
  apiKey?: string;
  /** Extra headers on every request (e.g. for a proxy). */
  headers?: Record<string, string>;
  /** Per-request timeouts in seconds. Default: 30 for queries, 90 for inserts, 10 for setup. */
  timeout?: { query?: number; insert?: number; init?: number };
}

function setting(
  value: string | number | undefined,
  settingName: string,
  environmentVariableName: string,
) {
  return loadOptionalSetting({
    value: value === undefined ? undefined : String(value),
    environmentVariableName,
    settingName,
    source,
  });
}

/** Connects a client (REST and gRPC) from the options, falling back to `WEAVIATE_*` variables. */
export function connectWeaviate(options: WeaviateConnectionOptions): Promise<WeaviateClient> {
  const url = new URL(setting(options.url, 'url', 'WEAVIATE_URL') ?? 'http://localhost:8080');
  const secure = url.protocol === 'https:';
  const grpcPort = setting(options.grpcPort, 'grpcPort', 'WEAVIATE_GRPC_PORT');
  const apiKey = setting(options.apiKey, 'apiKey', 'WEAVIATE_API_KEY');
  return weaviate.connectToCustom({
    httpHost: url.hostname,
    httpPort: url.port ? Number(url.port) : secure ? 443 : 80,
    httpSecure: secure,
    ...(url.pathname && url.pathname !== '/' ? { httpPath: url.pathname.replace(/\/$/, '') } : {}),
    grpcHost: setting(options.grpcHost, 'grpcHost', 'WEAVIATE_GRPC_HOST') ?? url.hostname,
    grpcPort: grpcPort !== undefined ? Number(grpcPort) : secure ? 443 : 50051,
    grpcSecure: secure,
    ...(apiKey ? { authCredentials: new weaviate.ApiKey(apiKey) } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    timeout: {
      query: options.timeout?.query ?? 30,
      insert: options.timeout?.insert ?? 90,
      init: options.timeout?.init ?? 10,
    },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const retryableNames = new Set([
  'WeaviateRequestTimeoutError',
  'WeaviateGRPCUnavailableError',
  'WeaviateStartUpError',
]);
const retryableMessage =
  /socket hang up|fetch failed|UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|status code: (429|5\d\d)|timed? ?out/i;

/**
 * Whether a failed Weaviate call may succeed when repeated: the client's timeout, start-up and
 * gRPC-unavailable errors, HTTP 429/5xx, transient gRPC statuses, and lost connections (the
 * client often keeps only the message of the network error).
 */
export function isRetryableWeaviateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (isRetryableNetworkError(error, typeof code === 'number' ? code : undefined)) return true;
  if (retryableNames.has((error as { name?: string } | null)?.name ?? '')) return true;
  const text = `${messageOf(error)} ${messageOf((error as { cause?: unknown } | null)?.cause)}`;
  return (
    retryableMessage.test(text) || [...retryableNetworkCodes].some((name) => text.includes(name))
  );
}

/** Whether Weaviate says the class (collection) does not exist. */
export function isMissingClass(error: unknown): boolean {
  return /class .*(not found|does not exist)|could not find class|no such class|collection .* not found/i.test(
    messageOf(error),
  );
}

/** Whether Weaviate refused to create something that already exists. */
export function isAlreadyExists(error: unknown): boolean {
  return /already exists|already used|exists already/i.test(messageOf(error));
}
