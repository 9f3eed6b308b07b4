import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaEvent } from 'hono/aws-lambda';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyStorePath, openApiKeyStore } from './api-keys.js';
import { createLambdaHandler, type LambdaHandler } from './lambda.js';
import { loadServerConfig } from './server-config.js';

let directory: string;
let key: string;
let handler: LambdaHandler;

/** An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it to the function. */
function httpApiEvent(
  method: string,
  path: string,
  {
    body,
    headers = {},
    query = '',
  }: { body?: unknown; headers?: Record<string, string>; query?: string } = {},
): LambdaEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers: {
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authentication: null,
      authorizer: {},
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'vitest',
      },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: '06/Dec/2026:12:00:00 +0000',
      timeEpoch: 1796558400000,
    },
    isBase64Encoded: false,
    body: body === undefined ? null : JSON.stringify(body),
  } satisfies LambdaEvent;
}

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'engram-lambda-'));
  const dataDir = join(directory, 'data');
  const keys = openApiKeyStore(apiKeyStorePath(dataDir));
  key = keys.create({ project: 'alpha' }).key;
  keys.close();
  handler = createLambdaHandler({
    config: loadServerConfig({ dataDir }, { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' }),
    logger: pino({ level: 'silent' }),
  });
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('createLambdaHandler', () => {
  it('answers /healthz for an API Gateway v2 event', async () => {
    const result = await handler(httpApiEvent('GET', '/healthz'));
    expect(result.statusCode).toBe(200);
  });

  it('refuses a request without an API key, as the HTTP server does', async () => {
    const result = await handler(httpApiEvent('GET', '/v1/memories', { query: 'userId=alice' }));
    expect(result.statusCode).toBe(401);
  });

  it('adds and searches memories of the key project through the same app', async () => {
    const authorization = { authorization: `Bearer ${key}` };
    const added = await handler(
      httpApiEvent('POST', '/v1/memories', {
        headers: authorization,
        body: { messages: 'I love hiking in the Swiss Alps', userId: 'alice', infer: false },
      }),
    );
    expect(added.statusCode).toBe(200);
    const found = await handler(
      httpApiEvent('POST', '/v1/search', {
        headers: authorization,
        body: { query: 'hiking in the Alps', userId: 'alice' },
      }),
    );
    expect(found.statusCode).toBe(200);
    const { results } = JSON.parse(found.body) as { results: { memory: string }[] };
    expect(results[0]?.memory).toBe('I love hiking in the Swiss Alps');
    expect(found.headers?.['x-request-id']).toBeTruthy();
  });

  it('reports a start without API keys with what to do, and retries on the next call', async () => {
    const empty = createLambdaHandler({
      config: loadServerConfig(
        { dataDir: join(directory, 'empty') },
        { ENGRAM_LLM: 'none', ENGRAM_EMBEDDER: 'hash' },
      ),
      logger: pino({ level: 'silent' }),
    });
    await expect(empty(httpApiEvent('GET', '/healthz'))).rejects.toThrow(/engram keys create/);
    await expect(empty(httpApiEvent('GET', '/healthz'))).rejects.toThrow(/engram keys create/);
  });
});
