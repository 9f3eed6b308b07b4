import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHashEmbedder, type Embedder } from '@engram/core';
import {
  contentText,
  errorBody,
  estimateTokens,
  type FakeToolCall,
  float32Base64,
  isToolCallsAnswer,
  messagesText,
  nowSeconds,
  randomId,
} from './fake-openai-wire.js';

/** What a chat handler receives: the parts of the request that decide the answer. */
export interface FakeChatRequest {
  /** Which endpoint was called: `chat` for `/v1/chat/completions`, `responses` for `/v1/responses`. */
  api: 'chat' | 'responses';
  /** Messages in Chat Completions shape (`{ role, content }`); Responses input is converted. */
  messages: Array<{ role: string; content: unknown; [key: string]: unknown }>;
  /** The requested model id. */
  model: string;
  /** `response_format` in Chat Completions shape (`json_object` or `json_schema`), when sent. */
  responseFormat?: Record<string, unknown>;
  /** Tools in Chat Completions shape (`{ type: 'function', function: { name, parameters } }`). */
  tools?: Array<Record<string, unknown>>;
  /** Whether the client asked for a server-sent event stream. */
  stream: boolean;
  /** The whole request body, as received. */
  body: Record<string, unknown>;
}

/**
 * What a chat handler returns: a string is the assistant's text, any other value is sent as its
 * JSON text, and a `toolCallsAnswer(...)` makes the model call tools.
 */
export type FakeChatAnswer = unknown;

/** Produces the assistant's answer for one chat request. */
export type FakeChatHandler = (
  request: FakeChatRequest,
) => FakeChatAnswer | Promise<FakeChatAnswer>;

/** One request the server received. */
export interface FakeRecordedRequest {
  /** HTTP method. */
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Parsed JSON body, or `undefined` when there was none. */
  body: unknown;
  /** Request headers, names in lower case. */
  headers: Record<string, string | string[] | undefined>;
}

/** Options of {@link startFakeOpenAI}. */
export interface FakeOpenAIOptions {
  /** Port to listen on. Default 0: a free port chosen by the system. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Produces the assistant's answers. Default: {@link fixedTextChat} (`{}` when JSON is requested). */
  chat?: FakeChatHandler;
  /** Length of embedding vectors when the request has no `dimensions`. Default 384. */
  embeddingDimensions?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
  /** Delay before every answer, in milliseconds. Default 0. */
  latencyMs?: number;
  /**
   * Delay before every embeddings answer, in milliseconds, instead of `latencyMs` (a hosted
   * embeddings API answers faster than a chat model). Default: `latencyMs`.
   */
  embeddingLatencyMs?: number;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
}

/** Options of {@link FakeOpenAIServer.failNext}. */
export interface FakeFailureOptions {
  /** Error message; defaults to OpenAI's usual message for the status. */
  message?: string;
  /** Sent as the `retry-after-ms` header, which clients honour before retrying. */
  retryAfterMs?: number;
}

/** A running fake server. */
export interface FakeOpenAIServer {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:40123/v1`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Every request received, oldest first. Clear it with `requests.length = 0`. */
  readonly requests: FakeRecordedRequest[];
  /** Makes the next `count` requests fail with `status` (default 500) in OpenAI's error format. */
  failNext(count: number, status?: number, options?: FakeFailureOptions): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The text {@link fixedTextChat} answers. */
export const fixedChatText = 'This is a reply from the fake OpenAI server.';

/** Answers every request with {@link fixedChatText}, or `{}` when JSON output is requested. */
export const fixedTextChat: FakeChatHandler = (request) =>
  request.responseFormat === undefined ? fixedChatText : {};

/** Answers with the text of the last user message. */
export const echoChat: FakeChatHandler = (request) => {
  const lastUser = [...request.messages].reverse().find((message) => message.role === 'user');
  return lastUser === undefined ? '' : contentText(lastUser.content);
};

const defaultModels = [
  'gpt-4.1-mini',
  'gpt-4.1',
  'gpt-4o-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
];

class HttpError extends Error {
  constructor(
    readonly status: number,
    message?: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

interface PendingFailure {
  status: number;
  options: FakeFailureOptions;
}

interface ChatOutcome {
  content: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: 'stop' | 'length' | 'tool_calls';
  promptTokens: number;
  completionTokens: number;
}

/**
 * Starts a small OpenAI-compatible HTTP server: Chat Completions (plain and streamed), Embeddings
 * (float and base64), Models and non-streamed Responses, in the wire format of the real API.
 * Embeddings are deterministic (feature hashing of the text, L2-normalized), so similar texts
 * land near each other.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const chat = options.chat ?? fixedTextChat;
  const defaultDimensions = options.embeddingDimensions ?? 384;
  const latencyMs = options.latencyMs ?? 0;
  const embeddingLatencyMs = options.embeddingLatencyMs ?? latencyMs;
  const models = options.models ?? defaultModels;
  const host = options.host ?? '127.0.0.1';
  const requests: FakeRecordedRequest[] = [];
  const failures: PendingFailure[] = [];
  const embedders = new Map<number, Embedder>();

  function embedderFor(dimensions: number): Embedder {
    let embedder = embedders.get(dimensions);
    if (embedder === undefined) {
      embedder = createHashEmbedder({ dimensions });
      embedders.set(dimensions, embedder);
    }
    return embedder;
  }
  embedderFor(defaultDimensions);

  async function runChat(request: FakeChatRequest, maxTokens: unknown): Promise<ChatOutcome> {
    const answer = await chat(request);
    const promptTokens = estimateTokens(
      messagesText(request.messages) + (request.tools ? JSON.stringify(request.tools) : ''),
    );
    if (isToolCallsAnswer(answer)) {
      const toolCalls = answer.toolCalls.map((call: FakeToolCall) => ({
        id: call.id ?? randomId('call_'),
        name: call.name,
        arguments:
          typeof call.arguments === 'string'
            ? call.arguments
            : JSON.stringify(call.arguments ?? {}),
      }));
      const content = answer.content ?? null;
      return {
        content,
        toolCalls,
        finishReason: 'tool_calls',
        promptTokens,
        completionTokens: estimateTokens((content ?? '') + JSON.stringify(toolCalls)),
      };
    }
    let content = typeof answer === 'string' ? answer : JSON.stringify(answer ?? null);
    let finishReason: ChatOutcome['finishReason'] = 'stop';
    if (typeof maxTokens === 'number' && maxTokens > 0 && estimateTokens(content) > maxTokens) {
      content = content.slice(0, maxTokens * 4);
      finishReason = 'length';
    }
    return {
      content,
      toolCalls: [],
      finishReason,
      promptTokens,
      completionTokens: estimateTokens(content),
    };
  }

  function chatUsage(outcome: ChatOutcome) {
    return {
      prompt_tokens: outcome.promptTokens,
      completion_tokens: outcome.completionTokens,
      total_tokens: outcome.promptTokens + outcome.completionTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
  }

  async function chatCompletions(body: Record<string, unknown>, response: ServerResponse) {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new HttpError(400, "Invalid 'messages': expected a non-empty array.", 'messages');
    }
    const model = requireModel(body);
    const stream = body.stream === true;
    const request: FakeChatRequest = {
      api: 'chat',
      messages,
      model,
      stream,
      body,
      ...(isRecord(body.response_format) && body.response_format.type !== 'text'
        ? { responseFormat: body.response_format }
        : {}),
      ...(Array.isArray(body.tools) && body.tools.length > 0 ? { tools: body.tools } : {}),
    };
    const outcome = await runChat(request, body.max_completion_tokens ?? body.max_tokens);
    const id = randomId('chatcmpl-');
    const created = nowSeconds();
    const common = { id, created, model, system_fingerprint: 'fp_fake', service_tier: 'default' };

    if (!stream) {
      sendJson(response, 200, {
        ...common,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: outcome.content,
              refusal: null,
              annotations: [],
              ...(outcome.toolCalls.length > 0
                ? {
                    tool_calls: outcome.toolCalls.map((call) => ({
                      id: call.id,
                      type: 'function',
                      function: { name: call.name, arguments: call.arguments },
                    })),
                  }
                : {}),
            },
            logprobs: null,
            finish_reason: outcome.finishReason,
          },
        ],
        usage: chatUsage(outcome),
      });
      return;
    }

    const includeUsage =
      isRecord(body.stream_options) && body.stream_options.include_usage === true;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      ...common,
      object: 'chat.completion.chunk',
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
    const delta = (value: Record<string, unknown>, finishReason: string | null = null) => ({
      index: 0,
      delta: value,
      logprobs: null,
      finish_reason: finishReason,
    });
    const events: unknown[] = [chunk([delta({ role: 'assistant', content: '', refusal: null })])];
    for (const piece of splitForStreaming(outcome.content ?? '')) {
      events.push(chunk([delta({ content: piece })]));
    }
    outcome.toolCalls.forEach((call, index) => {
      events.push(
        chunk([
          delta({
            tool_calls: [
              {
                index,
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: '' },
              },
            ],
          }),
        ]),
      );
      for (const piece of splitForStreaming(call.arguments)) {
        events.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
      }
    });
    events.push(chunk([delta({}, outcome.finishReason)]));
    if (includeUsage) events.push(chunk([], { usage: chatUsage(outcome) }));
    for (const event of events) response.write(`data: ${JSON.stringify(event)}\n\n`);
    response.end('data: [DONE]\n\n');
  }

  async function embeddings(body: Record<string, unknown>, response: ServerResponse) {
    const model = requireModel(body);
    const texts = embeddingInputs(body.input);
    const dimensions = body.dimensions ?? defaultDimensions;
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 8) {
      throw new HttpError(
        400,
        "Invalid 'dimensions': expected an integer of at least 8.",
        'dimensions',
      );
    }
    const encoding = body.encoding_format ?? 'float';
    if (encoding !== 'float' && encoding !== 'base64') {
      throw new HttpError(
        400,
        "Invalid 'encoding_format': expected 'float' or 'base64'.",
        'encoding_format',
      );
    }
    const { embeddings: vectors } = await embedderFor(dimensions).embed({
      values: texts,
      purpose: 'document',
    });
    const promptTokens = texts.reduce((sum, text) => sum + estimateTokens(text), 0);
    sendJson(response, 200, {
      object: 'list',
      data: vectors.map((vector, index) => ({
        object: 'embedding',
        index,
        embedding: encoding === 'base64' ? float32Base64(vector) : vector,
      })),
      model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  }

  async function responses(body: Record<string, unknown>, response: ServerResponse) {
    const model = requireModel(body);
    if (body.stream === true) {
      throw new HttpError(400, 'This fake server does not stream the Responses API.', 'stream');
    }
    const messages = responsesInputToMessages(body.input, body.instructions);
    const format =
      isRecord(body.text) && isRecord(body.text.format) ? body.text.format : { type: 'text' };
    const responseFormat =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              schema: format.schema,
              strict: format.strict,
              description: format.description,
            },
          }
        : format.type === 'json_object'
          ? { type: 'json_object' }
          : undefined;
    const tools = Array.isArray(body.tools)
      ? body.tools.filter(isRecord).map((tool) =>
          tool.type === 'function'
            ? {
                type: 'function',
                function: {
                  name: tool.name,
                  description: tool.description,
                  parameters: tool.parameters,
                },
              }
            : tool,
        )
      : [];
    const outcome = await runChat(
      {
        api: 'responses',
        messages,
        model,
        stream: false,
        body,
        ...(responseFormat ? { responseFormat } : {}),
        ...(tools.length > 0 ? { tools } : {}),
      },
      body.max_output_tokens,
    );
    const output: unknown[] = [];
    if (
      outcome.content !== null &&
      (outcome.content.length > 0 || outcome.toolCalls.length === 0)
    ) {
      output.push({
        type: 'message',
        id: randomId('msg_'),
        status: outcome.finishReason === 'length' ? 'incomplete' : 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: outcome.content, annotations: [], logprobs: [] }],
      });
    }
    for (const call of outcome.toolCalls) {
      output.push({
        type: 'function_call',
        id: randomId('fc_'),
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
        status: 'completed',
      });
    }
    const incomplete = outcome.finishReason === 'length';
    sendJson(response, 200, {
      id: randomId('resp_'),
      object: 'response',
      created_at: nowSeconds(),
      status: incomplete ? 'incomplete' : 'completed',
      error: null,
      incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model,
      output,
      parallel_tool_calls: true,
      previous_response_id: null,
      service_tier: 'default',
      temperature: body.temperature ?? 1,
      text: { format },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? 1,
      usage: {
        input_tokens: outcome.promptTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outcome.completionTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: outcome.promptTokens + outcome.completionTokens,
      },
    });
  }

  function listModels(path: string, response: ServerResponse) {
    const created = 1_700_000_000;
    const describe = (id: string) => ({ id, object: 'model', created, owned_by: 'engram-fake' });
    if (path === '/v1/models') {
      sendJson(response, 200, { object: 'list', data: models.map(describe) });
      return;
    }
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (!models.includes(id)) {
      throw new HttpError(404, `The model '${id}' does not exist`, 'model');
    }
    sendJson(response, 200, describe(id));
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse) {
    const method = incoming.method ?? 'GET';
    const path = new URL(incoming.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    const raw = await readBody(incoming);
    let body: unknown;
    let invalidJson = false;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        invalidJson = true;
      }
    }
    requests.push({ method, path, body, headers: { ...incoming.headers } });

    const delay = path.endsWith('/embeddings') ? embeddingLatencyMs : latencyMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

    const failure = failures.shift();
    if (failure !== undefined) {
      const headers: Record<string, string> = {};
      if (failure.options.retryAfterMs !== undefined) {
        headers['retry-after-ms'] = String(failure.options.retryAfterMs);
      }
      sendJson(
        response,
        failure.status,
        errorBody(failure.status, failure.options.message),
        headers,
      );
      return;
    }

    if (options.apiKey !== undefined) {
      const authorization = incoming.headers.authorization;
      if (authorization === undefined) {
        throw new HttpError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        );
      }
      if (authorization !== `Bearer ${options.apiKey}`) {
        throw new HttpError(401, 'Incorrect API key provided.');
      }
    }

    if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
      listModels(path, response);
      return;
    }
    const routes: Record<
      string,
      (body: Record<string, unknown>, response: ServerResponse) => Promise<void>
    > = {
      '/v1/chat/completions': chatCompletions,
      '/v1/embeddings': embeddings,
      '/v1/responses': responses,
    };
    const route = routes[path];
    if (route === undefined || method !== 'POST') {
      throw new HttpError(404, `Invalid URL (${method} ${path})`);
    }
    if (invalidJson) {
      throw new HttpError(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
      );
    }
    if (!isRecord(body)) {
      throw new HttpError(400, 'The request body must be a JSON object.');
    }
    await route(body, response);
  }

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(
          response,
          error.status,
          errorBody(error.status, error.message || undefined, error.param),
        );
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      sendJson(response, 500, errorBody(500, `Fake server handler failed: ${message}`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;

  const close = () => {
    closed ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
    return closed;
  };

  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    requests,
    failNext(count, status = 500, failureOptions = {}) {
      if (!Number.isInteger(count) || count < 0) {
        throw new RangeError(`count must be a non-negative integer, got ${count}.`);
      }
      for (let index = 0; index < count; index++) {
        failures.push({ status, options: failureOptions });
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value != null && typeof value === 'object' && !Array.isArray(value);
}

function requireModel(body: Record<string, unknown>): string {
  if (typeof body.model !== 'string' || body.model.length === 0) {
    throw new HttpError(400, 'you must provide a model parameter', 'model');
  }
  return body.model;
}

function embeddingInputs(input: unknown): string[] {
  const invalid = () =>
    new HttpError(
      400,
      "Invalid 'input': expected a string, an array of strings or an array of token arrays.",
      'input',
    );
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) throw invalid();
  if (input.every((value) => typeof value === 'number')) return [input.join(' ')];
  return input.map((value) => {
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((token) => typeof token === 'number')) {
      return value.join(' ');
    }
    throw invalid();
  });
}

function responsesInputToMessages(
  input: unknown,
  instructions: unknown,
): FakeChatRequest['messages'] {
  const messages: FakeChatRequest['messages'] = [];
  if (typeof instructions === 'string' && instructions.length > 0) {
    messages.push({ role: 'system', content: instructions });
  }
  if (typeof input === 'string') {
    messages.push({ role: 'user', content: input });
    return messages;
  }
  if (!Array.isArray(input)) {
    throw new HttpError(400, "Invalid 'input': expected a string or an array of items.", 'input');
  }
  for (const item of input) {
    if (!isRecord(item)) continue;
    if (typeof item.role === 'string' && (item.type === undefined || item.type === 'message')) {
      messages.push({ role: item.role, content: contentText(item.content) });
    } else if (item.type === 'function_call_output') {
      messages.push({
        role: 'tool',
        content: String(item.output ?? ''),
        tool_call_id: item.call_id,
      });
    }
  }
  if (messages.length === 0) {
    throw new HttpError(400, "Invalid 'input': no messages found.", 'input');
  }
  return messages;
}

function splitForStreaming(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    incoming.on('error', reject);
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': randomId('req_'),
    ...headers,
  });
  response.end(text);
}
