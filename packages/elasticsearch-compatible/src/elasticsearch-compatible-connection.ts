import { loadOptionalSetting, type SettingsEnvironment } from '@engram/adapter-kit';

/**
 * Connection settings both engines' clients take. Each falls back to the adapter's environment
 * variable, `<ENGINE>_URL`, `<ENGINE>_API_KEY`, `<ENGINE>_USERNAME` and `<ENGINE>_PASSWORD`
 * (`ELASTICSEARCH_URL`, `OPENSEARCH_USERNAME`, ...).
 */
export interface ElasticsearchCompatibleConnectionOptions {
  /**
   * The URL of the cluster, or several nodes of one cluster. Default: `<ENGINE>_URL`, else
   * `http://localhost:9200`.
   */
  url?: string | string[];
  /** API key (the encoded form). Default: `<ENGINE>_API_KEY`. Takes precedence over basic auth. */
  apiKey?: string;
  /** Basic-auth user. Default: `<ENGINE>_USERNAME`. */
  username?: string;
  /** Basic-auth password. Default: `<ENGINE>_PASSWORD`. */
  password?: string;
}

/** How {@link elasticsearchCompatibleConnection} finds what was not passed. */
export interface ConnectionSettings {
  /** The adapter, for error prefixes. */
  source: string;
  /** Prefix of the environment variables: `<prefix>_URL`, `<prefix>_USERNAME`, ... */
  environmentPrefix: string;
  /** Whether the engine takes API keys (`<prefix>_API_KEY`). */
  apiKeys: boolean;
  /** Where to read the variables; default `process.env`. */
  environment?: SettingsEnvironment;
}

/** Basic authentication, in the shape both clients take. */
export interface BasicAuth {
  /** The user. */
  username: string;
  /** The password; empty when none was given. */
  password: string;
}

/** Authentication in the shape both clients take. */
export type ElasticsearchCompatibleAuth = { apiKey: string } | BasicAuth;

/** The `node` and `auth` options of a client. */
export interface ElasticsearchCompatibleClientConnection<Auth = ElasticsearchCompatibleAuth> {
  /** One URL or several nodes of one cluster. */
  node: string | string[];
  /** Absent when neither an API key nor a user is set. */
  auth?: Auth;
}

/**
 * The `node` and `auth` client options: each setting passed in code, else its environment
 * variable; the URL defaults to `http://localhost:9200`.
 */
export function elasticsearchCompatibleConnection(
  options: ElasticsearchCompatibleConnectionOptions,
  settings: ConnectionSettings & { apiKeys: false },
): ElasticsearchCompatibleClientConnection<BasicAuth>;
export function elasticsearchCompatibleConnection(
  options: ElasticsearchCompatibleConnectionOptions,
  settings: ConnectionSettings,
): ElasticsearchCompatibleClientConnection;
export function elasticsearchCompatibleConnection(
  options: ElasticsearchCompatibleConnectionOptions,
  settings: ConnectionSettings,
): ElasticsearchCompatibleClientConnection {
  const load = (value: string | undefined, suffix: string, settingName: string) =>
    loadOptionalSetting({
      value,
      environmentVariableName: `${settings.environmentPrefix}_${suffix}`,
      settingName,
      source: settings.source,
      ...(settings.environment ? { environment: settings.environment } : {}),
    });
  const node = Array.isArray(options.url)
    ? options.url
    : (load(options.url, 'URL', 'url') ?? 'http://localhost:9200');
  const apiKey = settings.apiKeys ? load(options.apiKey, 'API_KEY', 'apiKey') : undefined;
  if (apiKey) return { node, auth: { apiKey } };
  const username = load(options.username, 'USERNAME', 'username');
  if (username === undefined) return { node };
  return {
    node,
    auth: { username, password: load(options.password, 'PASSWORD', 'password') ?? '' },
  };
}
