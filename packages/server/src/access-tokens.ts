import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { type Access, type ApiKeyIdentity, accessLevels } from './api-keys.js';

/** OAuth2 / OpenID Connect bearer tokens accepted beside API keys. */
export interface OidcConfig {
  /** The issuer (`iss`) tokens must carry, e.g. `https://login.example.com/realms/acme`. */
  issuer: string;
  /** The audience (`aud`) tokens must carry, e.g. `engram`. */
  audience: string;
  /** Where the issuer's signing keys are; default: `jwks_uri` of its discovery document. */
  jwksUrl?: string;
  /** Claim naming the Engram project the token may use. Default `engram_project`. */
  projectClaim: string;
  /**
   * Claim holding the granted access: a space-separated string or a list with `engram:read`,
   * `engram:write` or `engram:admin` (or plain `read`, `write`, `admin`). Default `scope`.
   */
  accessClaim: string;
}

/** Why a token was refused, in words a client can act on. */
export class TokenRefusedError extends Error {
  constructor(
    message: string,
    /** 401 for a token that is not valid, 403 for a valid one that grants too little. */
    readonly status: 401 | 403,
  ) {
    super(message);
    this.name = 'TokenRefusedError';
  }
}

const projectPattern = /^[a-z0-9][a-z0-9_-]{0,47}$/;

/** Whether a presented credential has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

/** The highest access a token's claim grants, or undefined. */
export function grantedAccess(claim: unknown): Access | undefined {
  const values = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  let best: Access | undefined;
  for (const value of values) {
    if (typeof value !== 'string') continue;
    const level = value.replace(/^engram:/, '') as Access;
    if (!(accessLevels as readonly string[]).includes(level)) continue;
    if (best === undefined || accessLevels.indexOf(level) > accessLevels.indexOf(best))
      best = level;
  }
  return best;
}

/**
 * Verifies bearer tokens against the issuer's published keys (fetched once, refreshed when an
 * unknown key id appears) and turns a valid token into the identity an API key would give.
 */
export function createTokenVerifier(
  config: OidcConfig,
  fetchJson: (url: string) => Promise<unknown> = async (url) => (await fetch(url)).json(),
): (token: string) => Promise<ApiKeyIdentity> {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  async function keySet() {
    if (keys) return keys;
    let url = config.jwksUrl;
    if (!url) {
      const discovery = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const document = (await fetchJson(discovery).catch(() => undefined)) as
        | { jwks_uri?: unknown }
        | undefined;
      if (typeof document?.jwks_uri !== 'string') {
        throw new TokenRefusedError(
          `The issuer's discovery document (${discovery}) has no jwks_uri: set ENGRAM_OIDC_JWKS_URL.`,
          401,
        );
      }
      url = document.jwks_uri;
    }
    keys = createRemoteJWKSet(new URL(url));
    return keys;
  }

  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await keySet(), {
        issuer: config.issuer,
        audience: config.audience,
      }));
    } catch (error) {
      if (error instanceof TokenRefusedError) throw error;
      const reason =
        error instanceof errors.JWTExpired
          ? 'it has expired'
          : error instanceof errors.JWTClaimValidationFailed
            ? `its "${error.claim}" claim does not match (expected issuer ${config.issuer}, audience ${config.audience})`
            : error instanceof errors.JWSSignatureVerificationFailed ||
                error instanceof errors.JWKSNoMatchingKey
              ? "its signature does not verify with the issuer's keys"
              : 'it cannot be verified';
      throw new TokenRefusedError(`The bearer token is not accepted: ${reason}.`, 401);
    }
    const project = payload[config.projectClaim];
    if (typeof project !== 'string' || !projectPattern.test(project)) {
      throw new TokenRefusedError(
        `The token has no valid "${config.projectClaim}" claim naming the Engram project (lowercase letters, digits, "_" or "-").`,
        403,
      );
    }
    const access = grantedAccess(payload[config.accessClaim]);
    if (!access) {
      throw new TokenRefusedError(
        `The token grants no Engram access: its "${config.accessClaim}" claim needs engram:read, engram:write or engram:admin.`,
        403,
      );
    }
    return {
      keyId: `oidc:${payload.sub ?? 'unknown'}`,
      project,
      access,
      ...(access === 'admin' ? { admin: true as const } : {}),
    };
  };
}

/** The access a request needs: reads (and searches sent as POST) need read; resets and `/v1/admin/*` admin. */
export function neededAccess(method: string, path: string): Access {
  const upper = method.toUpperCase();
  if (path.startsWith('/v1/admin/')) return 'admin';
  if (upper === 'GET' || upper === 'HEAD' || upper === 'OPTIONS') return 'read';
  const route = path.replace(/\/+$/, '');
  if (route === '/v1/reset') return 'admin';
  if (upper === 'POST' && (/\/search$/.test(route) || route === '/v3/memories')) return 'read';
  return 'write';
}
