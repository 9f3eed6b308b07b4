import { timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '@engram/core';
import {
  type Access,
  type ApiKeyInfo,
  type ApiKeyStore,
  accessLevels,
  apiKeyStorePath,
  hashApiKey,
  openApiKeyStore,
  projectNamePattern,
} from './api-keys.js';
import { openPostgresApiKeyStore } from './postgres-api-keys.js';
import type { ServerConfig } from './server-config.js';

const source = 'server';

/** A key given by the deployment (e.g. from a Kubernetes Secret) rather than stored in a file. */
export interface BootstrapKey {
  /** The secret, as clients send it (`ENGRAM_BOOTSTRAP_KEY`). At least 32 characters. */
  key: string;
  /** Project of the key (`ENGRAM_BOOTSTRAP_PROJECT`). Default `default`. */
  project: string;
  /** What the key may do (`ENGRAM_BOOTSTRAP_ACCESS`). Default `admin`. */
  access: Access;
}

/** The public id the bootstrap key is listed, logged and rate-limited under. */
export const bootstrapKeyId = 'k_bootstrap';

/** The bootstrap key of the environment, or `undefined` when `ENGRAM_BOOTSTRAP_KEY` is unset. */
export function bootstrapKeyFromEnvironment(
  env: Record<string, string | undefined>,
): BootstrapKey | undefined {
  const key = env.ENGRAM_BOOTSTRAP_KEY?.trim();
  if (!key) return undefined;
  if (key.length < 32 || /\s/.test(key)) {
    throw new InvalidArgumentError({
      source,
      message:
        'ENGRAM_BOOTSTRAP_KEY must be at least 32 characters without spaces; generate one with `openssl rand -hex 32`.',
    });
  }
  const project = env.ENGRAM_BOOTSTRAP_PROJECT?.trim() || 'default';
  if (!projectNamePattern.test(project)) {
    throw new InvalidArgumentError({
      source,
      message: `ENGRAM_BOOTSTRAP_PROJECT must be 1-48 lowercase letters, digits, "_" or "-", got ${JSON.stringify(project)}.`,
    });
  }
  const access = env.ENGRAM_BOOTSTRAP_ACCESS?.trim() || 'admin';
  if (!(accessLevels as readonly string[]).includes(access)) {
    throw new InvalidArgumentError({
      source,
      message: `ENGRAM_BOOTSTRAP_ACCESS must be one of ${accessLevels.join(', ')}, got ${JSON.stringify(access)}.`,
    });
  }
  return { key, project, access: access as Access };
}

/**
 * The key store with the bootstrap key beside its own keys. Only the key's SHA-256 digest is
 * kept, compared in constant time; the key is never written anywhere, so pods need no shared
 * volume for it. It is revoked by removing it from the deployment's Secret.
 */
export function withBootstrapKey(store: ApiKeyStore, bootstrap: BootstrapKey): ApiKeyStore {
  const digest = hashApiKey(bootstrap.key);
  const createdAt = new Date().toISOString();
  const info: ApiKeyInfo = {
    id: bootstrapKeyId,
    project: bootstrap.project,
    name: 'ENGRAM_BOOTSTRAP_KEY',
    createdAt,
    revokedAt: null,
    ...(bootstrap.access === 'admin' ? { admin: true as const } : {}),
    access: bootstrap.access,
  };
  return {
    create: (options) => store.create(options),
    list: () => [info, ...store.list()],
    revoke(id) {
      if (id === bootstrapKeyId) {
        throw new InvalidArgumentError({
          source,
          message:
            'The bootstrap key comes from ENGRAM_BOOTSTRAP_KEY: remove or rotate it in the Secret that sets it, then restart the pods.',
        });
      }
      return store.revoke(id);
    },
    verify(key) {
      if (timingSafeEqual(hashApiKey(key), digest)) {
        return {
          keyId: bootstrapKeyId,
          project: bootstrap.project,
          ...(bootstrap.access === 'admin' ? { admin: true as const } : {}),
          access: bootstrap.access,
        };
      }
      return store.verify(key);
    },
    activeCount: () => store.activeCount() + 1,
    close: () => store.close(),
  };
}

/**
 * The key store a server process answers with: PostgreSQL's when `ENGRAM_API_KEYS_URL` is set,
 * else the data directory's file, plus the bootstrap key when one is given.
 */
export async function openServingKeyStore(config: ServerConfig): Promise<ApiKeyStore> {
  const bootstrap = bootstrapKeyFromEnvironment(config.env);
  const url = config.env.ENGRAM_API_KEYS_URL?.trim();
  const store = url
    ? await openPostgresApiKeyStore({ url })
    : openApiKeyStore(apiKeyStorePath(config.dataDir));
  return bootstrap ? withBootstrapKey(store, bootstrap) : store;
}
