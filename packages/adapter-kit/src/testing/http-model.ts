import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a protocol model received it. */
export interface HttpModelRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body. */
  text: string;
  /** The body parsed as JSON when it is JSON, else `{}`. */
  body: Record<string, unknown>;
}

/** What a protocol model answers. */
export interface HttpModelResponse {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body: unknown;
}

/** A running protocol model: its URL and how to stop it. */
export interface HttpModelServer {
  url: string;
  close: () => Promise<void>;
}

/**
 * Serves a protocol model of a backend's HTTP API on 127.0.0.1 (a free port): every request is
 * read whole, its JSON body parsed, and `handle` answers it. A `handle` that throws answers 500
 * with the message, so a model's own mistake shows in the adapter's error.
 */
export async function startHttpModel(
  handle: (request: HttpModelRequest) => HttpModelResponse,
): Promise<HttpModelServer> {
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (part: Buffer) => chunks.push(part));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(incoming.url ?? '/', 'http://model');
      let answer: HttpModelResponse;
      try {
        let body: Record<string, unknown> = {};
        if (text && (incoming.headers['content-type'] ?? '').includes('json')) {
          body = JSON.parse(text) as Record<string, unknown>;
        }
        answer = handle({
          method: incoming.method ?? 'GET',
          path: url.pathname,
          search: url.searchParams,
          headers: incoming.headers,
          text,
          body,
        });
      } catch (error) {
        answer = { status: 500, body: { message: `model: ${String(error)}` } };
      }
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
  });
  // No idle timeout: a client reusing a socket the server just closed would see ECONNRESET.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The cosine similarity of two vectors (0 when one is all zeros), as a model computes it. */
export function cosineSimilarity(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index++) {
    dot += left[index]! * right[index]!;
    leftNorm += left[index]! ** 2;
    rightNorm += right[index]! ** 2;
  }
  return leftNorm === 0 || rightNorm === 0 ? 0 : dot / Math.sqrt(leftNorm * rightNorm);
}
