import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantedAccess, looksLikeJwt, neededAccess } from './access-tokens.js';
import { openTestApp, requestApp, type TestApp } from './server-app.test-support.js';

let directory: string;
let issuerServer: Server;
let issuer: string;
let opened: TestApp;
let app: TestApp['app'];
let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let otherKey: typeof signingKey;
let readKey: string;
let writeKey: string;

/** A token signed by the issuer (or another key), with the given claims. */
async function token(
  claims: Record<string, unknown>,
  { key = signingKey, audience = 'engram', expires = '5m' } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: key === signingKey ? 'issuer-key' : 'other-key' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('user-42')
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(key);
}

function call(
  path: string,
  bearer: string,
  { method = 'GET', body }: { method?: string; body?: unknown } = {},
) {
  return requestApp(app, path, { method, authorization: `Bearer ${bearer}`, body });
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'engram-oidc-'));
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  const jwk: JWK = {
    ...(await exportJWK(pair.publicKey)),
    kid: 'issuer-key',
    alg: 'ES256',
    use: 'sig',
  };
  // A small issuer: the discovery document and the key set, as an identity provider serves them.
  issuerServer = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') {
      response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    } else if (request.url === '/jwks') {
      response.end(JSON.stringify({ keys: [jwk] }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  opened = openTestApp({
    dataDir: join(directory, 'data'),
    env: { ENGRAM_OIDC_ISSUER: issuer, ENGRAM_OIDC_AUDIENCE: 'engram' },
  });
  app = opened.app;
  readKey = opened.context.keys.create({ project: 'alpha', access: 'read' }).key;
  writeKey = opened.context.keys.create({ project: 'alpha' }).key;
});

afterAll(async () => {
  await opened.close();
  await new Promise((resolve) => issuerServer.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

describe('access levels of API keys', () => {
  it('lets a read key get, list and search, and refuses it writes with what to use instead', async () => {
    const added = await call('/v1/memories', writeKey, {
      method: 'POST',
      body: { messages: 'I like tea', userId: 'alice', infer: false },
    });
    expect(added.status).toBe(200);
    expect((await call('/v1/memories?userId=alice', readKey)).status).toBe(200);
    expect(
      (
        await call('/v1/search', readKey, {
          method: 'POST',
          body: { query: 'tea', userId: 'alice' },
        })
      ).status,
    ).toBe(200);
    const refused = await call('/v1/memories', readKey, {
      method: 'POST',
      body: { messages: 'I like coffee', userId: 'alice' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'This key has read access; POST /v1/memories needs write',
    );
    const reset = await call('/v1/reset', writeKey, { method: 'POST', body: { userId: 'alice' } });
    expect(reset.status).toBe(403);
  });

  it('classifies routes: reads and searches need read, resets admin, the rest write', () => {
    expect(neededAccess('GET', '/v1/memories')).toBe('read');
    expect(neededAccess('POST', '/v1/search')).toBe('read');
    expect(neededAccess('POST', '/v3/memories/search/')).toBe('read');
    expect(neededAccess('POST', '/v3/memories/')).toBe('read');
    expect(neededAccess('POST', '/v1/memories')).toBe('write');
    expect(neededAccess('DELETE', '/v1/memories/abc')).toBe('write');
    expect(neededAccess('POST', '/v1/reset')).toBe('admin');
  });
});

describe('OIDC bearer tokens', () => {
  it('accepts a token of the issuer for the project and access its claims name', async () => {
    const write = await token({ engram_project: 'alpha', scope: 'openid engram:write' });
    expect(looksLikeJwt(write)).toBe(true);
    const added = await call('/v1/memories', write, {
      method: 'POST',
      body: { messages: 'I live in Lisbon', userId: 'bob', infer: false },
    });
    expect(added.status).toBe(200);
    // The same project as the API keys: what the token wrote, a key of the project reads.
    const listed = (await (await call('/v1/memories?userId=bob', readKey)).json()) as {
      results: { memory: string }[];
    };
    expect(listed.results.map((item) => item.memory)).toEqual(['I live in Lisbon']);
    const read = await token({ engram_project: 'alpha', scope: ['engram:read'] });
    expect((await call('/v1/memories?userId=bob', read)).status).toBe(200);
    expect(
      (await call('/v1/memories', read, { method: 'POST', body: { messages: 'x', userId: 'bob' } }))
        .status,
    ).toBe(403);
  });

  it('keeps projects apart: a token of another project sees none of this one', async () => {
    const beta = await token({ engram_project: 'beta', scope: 'engram:admin' });
    const listed = (await (await call('/v1/memories?userId=bob', beta)).json()) as {
      results: unknown[];
    };
    expect(listed.results).toEqual([]);
  });

  it('refuses tokens that are expired, for another audience, signed by another key or without claims', async () => {
    const cases: [string, number, string][] = [
      [
        await token({ engram_project: 'alpha', scope: 'engram:read' }, { expires: '-1m' }),
        401,
        'it has expired',
      ],
      [
        await token({ engram_project: 'alpha', scope: 'engram:read' }, { audience: 'other' }),
        401,
        '"aud" claim',
      ],
      [
        await token({ engram_project: 'alpha', scope: 'engram:read' }, { key: otherKey }),
        401,
        'signature does not verify',
      ],
      [await token({ scope: 'engram:read' }), 403, 'no valid "engram_project" claim'],
      [
        await token({ engram_project: 'alpha', scope: 'openid profile' }),
        403,
        'grants no Engram access',
      ],
    ];
    for (const [bearer, status, message] of cases) {
      const response = await call('/v1/memories?userId=bob', bearer);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        message,
      );
    }
  });

  it('reads the highest access a claim grants', () => {
    expect(grantedAccess('openid engram:read engram:write')).toBe('write');
    expect(grantedAccess(['admin'])).toBe('admin');
    expect(grantedAccess('openid')).toBeUndefined();
    expect(grantedAccess(42)).toBeUndefined();
  });
});
