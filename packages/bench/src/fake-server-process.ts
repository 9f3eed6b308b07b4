import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startFakeOpenAI } from '@engram/fake-openai';
import { benchChat, estimateTokens } from './fake-model.js';

/** Counters of everything the fake server did, cumulative since it started. */
export interface ServerStats {
  chatCalls: number;
  embeddingCalls: number;
  embeddingInputs: number;
  promptTokens: number;
  completionTokens: number;
  embeddingTokens: number;
  /** Time from request headers to the end of the response, summed over requests. */
  serverMs: number;
}

const stats: ServerStats = {
  chatCalls: 0,
  embeddingCalls: 0,
  embeddingInputs: 0,
  promptTokens: 0,
  completionTokens: 0,
  embeddingTokens: 0,
  serverMs: 0,
};
const started = new WeakMap<IncomingMessage, number>();

subscribe('http.server.request.start', (message) => {
  started.set((message as { request: IncomingMessage }).request, performance.now());
});
subscribe('http.server.response.finish', (message) => {
  const start = started.get((message as { request: IncomingMessage }).request);
  if (start !== undefined) stats.serverMs += performance.now() - start;
});

const dimensions = Number(process.argv[2] ?? 384);
const server = await startFakeOpenAI({
  embeddingDimensions: dimensions,
  latencyMs: Number(process.argv[3] ?? 0),
  embeddingLatencyMs: Number(process.argv[4] ?? 0),
  chat: (request) => {
    stats.chatCalls++;
    const answer = benchChat(request);
    stats.promptTokens += estimateTokens(
      request.messages.map((message) => JSON.stringify(message.content)).join('\n'),
    );
    stats.completionTokens += estimateTokens(
      typeof answer === 'string' ? answer : JSON.stringify(answer),
    );
    return answer;
  },
});

// Request bodies are recorded by the fake; count embedding inputs from them, then drop them so
// that preloading 100k memories does not keep every body in memory.
function drainRequests() {
  for (const request of server.requests) {
    if (request.path !== '/v1/embeddings') continue;
    stats.embeddingCalls++;
    const input = (request.body as { input?: unknown } | undefined)?.input;
    const inputs = Array.isArray(input) ? input : [input];
    stats.embeddingInputs += inputs.length;
    for (const value of inputs) {
      stats.embeddingTokens += typeof value === 'string' ? estimateTokens(value) : 0;
    }
  }
  server.requests.length = 0;
}

process.on('message', (message: { type: string; id: number }) => {
  if (message.type === 'stats') {
    drainRequests();
    process.send!({ type: 'stats', id: message.id, stats: { ...stats } });
  } else if (message.type === 'close') {
    void server.close().then(() => process.exit(0));
  }
});
// Exit with the benchmark, even when it was killed before it could say close.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', url: server.url });
