#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { echoChat, fixedTextChat, startFakeOpenAI } from './fake-openai-server.js';

const usage = `Usage: engram-fake-openai [options]

Starts a local OpenAI-compatible server (chat completions, embeddings, models, responses).

Options:
  --port <n>          port to listen on (default 8787; 0 picks a free one)
  --host <address>    interface to listen on (default 127.0.0.1)
  --api-key <key>     require "Authorization: Bearer <key>"
  --dimensions <n>    embedding length when a request sets none (default 384)
  --latency <ms>      delay before every answer (default 0)
  --embedding-latency <ms>
                      delay before embeddings answers instead (default: --latency)
  --echo              answer with the last user message instead of a fixed text
  --help              show this help
`;

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    process.stderr.write(`--${name} must be a non-negative integer, got ${value}\n`);
    process.exit(2);
  }
  return parsed;
}

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'api-key': { type: 'string' },
    dimensions: { type: 'string' },
    latency: { type: 'string' },
    'embedding-latency': { type: 'string' },
    echo: { type: 'boolean' },
    help: { type: 'boolean' },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}

const server = await startFakeOpenAI({
  port: integer('port', values.port, 8787),
  embeddingDimensions: integer('dimensions', values.dimensions, 384),
  latencyMs: integer('latency', values.latency, 0),
  ...(values['embedding-latency'] === undefined
    ? {}
    : { embeddingLatencyMs: integer('embedding-latency', values['embedding-latency'], 0) }),
  chat: values.echo ? echoChat : fixedTextChat,
  ...(values.host === undefined ? {} : { host: values.host }),
  ...(values['api-key'] === undefined ? {} : { apiKey: values['api-key'] }),
});
process.stdout.write(`Fake OpenAI server listening on ${server.url}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
