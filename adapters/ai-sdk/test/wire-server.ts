import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the local server received. */
export interface WireRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** What the local server answers. */
export interface WireResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as it is (for malformed bodies). */
  body: unknown;
}

/** A failure the server answers instead of the next requests. */
export interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/**
 * A local HTTP server on 127.0.0.1 that answers in one provider's API format, so the provider's
 * official AI SDK package can be driven end to end without the hosted service.
 */
export interface WireServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  requests: WireRequest[];
  /** Answers the next `count` requests with the failure. */
  failNext(count: number, failure: ScriptedFailure): void;
  close(): Promise<void>;
}

export async function startWireServer(
  answer: (request: WireRequest) => WireResponse,
): Promise<WireServer> {
  const requests: WireRequest[] = [];
  const failures: ScriptedFailure[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text.length === 0 ? undefined : JSON.parse(text);
      } catch {}
      const request: WireRequest = {
        method: incoming.method ?? 'GET',
        path: incoming.url ?? '/',
        headers: incoming.headers,
        body,
      };
      requests.push(request);
      let response: WireResponse;
      try {
        response = failures.shift() ?? answer(request);
      } catch (error) {
        response = { status: 404, body: { error: { message: String(error) } } };
      }
      const payload =
        typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
      outgoing.writeHead(response.status ?? 200, {
        'content-type': 'application/json',
        ...response.headers,
      });
      outgoing.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, failure) {
      for (let index = 0; index < count; index++) failures.push(failure);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A deterministic vector of `dimensions` numbers for a text. */
export function vectorFor(text: string, dimensions: number): number[] {
  let seed = 0;
  for (const character of text) seed = (seed * 31 + (character.codePointAt(0) ?? 0)) % 9973;
  return Array.from({ length: dimensions }, (_, index) => ((seed + index) % 17) / 17);
}
