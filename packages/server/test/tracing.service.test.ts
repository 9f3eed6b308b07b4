import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startEngramServer, temporaryDataDir } from './service-harness.js';

interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/** A minimal OTLP/HTTP collector: records what the exporter posts and answers 200. */
async function startCollector(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('OpenTelemetry tracing', () => {
  it('exports a span per request to the OTLP endpoint when one is configured', async () => {
    const collector = await startCollector();
    const dataDir = await temporaryDataDir();
    try {
      const server = await startEngramServer(dataDir.path, {
        args: ['--insecure-local'],
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
      });
      const added = await server.request('/v1/memories', {
        method: 'POST',
        body: { messages: 'I like green tea', userId: 'alice' },
      });
      expect(added.status).toBe(200);
      expect(await server.stop('SIGTERM')).toBe(0);
      const traces = collector.received.filter((entry) => entry.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      // OTLP protobuf carries span names as plain UTF-8 strings.
      const payload = Buffer.concat(traces.map((entry) => entry.body)).toString('latin1');
      expect(payload).toContain('POST /v1/memories');
      expect(payload).toContain('engram');
    } finally {
      await collector.close();
      await dataDir.dispose();
    }
  });
});
