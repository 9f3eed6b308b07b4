// Wire-level tests: each provider's official AI SDK package, configured by name as a user would,
// talks to a local HTTP server on 127.0.0.1 that answers in that provider's public API format.
// These are NOT the hosted services: they check paths, headers, bodies, usage and error handling.
import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createEmbedderFromName,
  createLLMFromName,
  createRerankerFromName,
} from '../src/ai-sdk-model-names.js';
import {
  startWireServer,
  vectorFor,
  type WireRequest,
  type WireResponse,
  type WireServer,
} from './wire-server.js';

const answerText = 'the answer';
const usage = { input: 11, output: 7 };

function openAIChatReply(request: WireRequest) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: (request.body as { model?: string }).model ?? 'model',
    choices: [
      { index: 0, message: { role: 'assistant', content: answerText }, finish_reason: 'stop' },
    ],
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    },
  };
}

function openAIEmbeddingsReply(request: WireRequest, dimensions: number) {
  const input = (request.body as { input: string[] }).input;
  return {
    object: 'list',
    model: 'model',
    data: input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: vectorFor(text, dimensions),
    })),
    usage: { prompt_tokens: 5, total_tokens: 5 },
  };
}

const openAIError = (status: number) => ({
  error: { message: `status ${status}`, type: 'error', code: String(status) },
});

/** How one provider's API looks on the wire, as its public API reference describes it. */
interface ProviderWire {
  provider: string;
  llmName: string;
  env: (url: string) => Record<string, string>;
  /** The request path the package must use. */
  llmPath: RegExp;
  /** A header and the value the package must send to authenticate. */
  auth: [string, RegExp];
  reply: (request: WireRequest) => unknown;
  errorBody: (status: number) => unknown;
}

const chatCompatible = (
  provider: string,
  model: string,
  keyVariable: string,
  baseVariable: string,
): ProviderWire => ({
  provider,
  llmName: `${provider}:${model}`,
  env: (url) => ({ [keyVariable]: 'test-key', [baseVariable]: `${url}/v1` }),
  llmPath: /^\/v1\/chat\/completions$/,
  auth: ['authorization', /^Bearer test-key$/],
  reply: openAIChatReply,
  errorBody: openAIError,
});

const providers: ProviderWire[] = [
  {
    provider: 'anthropic',
    llmName: 'anthropic:claude-sonnet-4-5',
    env: (url) => ({ ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: `${url}/v1` }),
    llmPath: /^\/v1\/messages$/,
    auth: ['x-api-key', /^test-key$/],
    reply: () => ({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: answerText }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: usage.input, output_tokens: usage.output },
    }),
    errorBody: (status) => ({
      type: 'error',
      error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message: `s${status}` },
    }),
  },
  {
    provider: 'google',
    llmName: 'google:gemini-2.5-flash',
    env: (url) => ({ GOOGLE_GENERATIVE_AI_API_KEY: 'test-key', ENGRAM_LLM_BASE_URL: url }),
    llmPath: /^\/models\/gemini-2\.5-flash:generateContent$/,
    auth: ['x-goog-api-key', /^test-key$/],
    reply: () => ({
      candidates: [
        { content: { role: 'model', parts: [{ text: answerText }] }, finishReason: 'STOP' },
      ],
      usageMetadata: {
        promptTokenCount: usage.input,
        candidatesTokenCount: usage.output,
        totalTokenCount: usage.input + usage.output,
      },
    }),
    errorBody: (status) => ({ error: { code: status, message: `s${status}`, status: 'ERROR' } }),
  },
  {
    provider: 'azure',
    llmName: 'azure:my-gpt-deployment',
    env: (url) => ({ AZURE_API_KEY: 'test-key', ENGRAM_LLM_BASE_URL: `${url}/openai` }),
    // A base URL off *.openai.azure.com (a gateway) is used as given, without /v1 or api-version.
    llmPath: /^\/openai\/chat\/completions$/,
    auth: ['api-key', /^test-key$/],
    reply: openAIChatReply,
    errorBody: openAIError,
  },
  {
    provider: 'amazon-bedrock',
    llmName: 'amazon-bedrock:anthropic.claude-3-haiku-20240307-v1:0',
    env: (url) => ({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      ENGRAM_LLM_BASE_URL: url,
    }),
    llmPath: /^\/model\/anthropic\.claude-3-haiku-20240307-v1(%3A|:)0\/converse$/,
    auth: ['authorization', /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/bedrock\//],
    reply: () => ({
      output: { message: { role: 'assistant', content: [{ text: answerText }] } },
      stopReason: 'end_turn',
      usage: {
        inputTokens: usage.input,
        outputTokens: usage.output,
        totalTokens: usage.input + usage.output,
      },
    }),
    errorBody: (status) => ({ message: `s${status}` }),
  },
  {
    provider: 'cohere',
    llmName: 'cohere:command-r-plus',
    env: (url) => ({ COHERE_API_KEY: 'test-key', ENGRAM_LLM_BASE_URL: `${url}/v2` }),
    llmPath: /^\/v2\/chat$/,
    auth: ['authorization', /^Bearer test-key$/],
    reply: () => ({
      id: 'c1',
      finish_reason: 'COMPLETE',
      message: { role: 'assistant', content: [{ type: 'text', text: answerText }] },
      usage: {
        billed_units: { input_tokens: usage.input, output_tokens: usage.output },
        tokens: { input_tokens: usage.input, output_tokens: usage.output },
      },
    }),
    errorBody: (status) => ({ message: `s${status}` }),
  },
  chatCompatible('mistral', 'mistral-small-latest', 'MISTRAL_API_KEY', 'MISTRAL_BASE_URL'),
  chatCompatible('groq', 'llama-3.3-70b-versatile', 'GROQ_API_KEY', 'GROQ_BASE_URL'),
  chatCompatible(
    'togetherai',
    'meta-llama/Llama-3.3-70B',
    'TOGETHER_AI_API_KEY',
    'TOGETHER_AI_BASE_URL',
  ),
  chatCompatible('deepseek', 'deepseek-chat', 'DEEPSEEK_API_KEY', 'DEEPSEEK_BASE_URL'),
  chatCompatible('xai', 'grok-3-mini', 'XAI_API_KEY', 'XAI_BASE_URL'),
  chatCompatible('openai-compatible', 'qwen2.5-7b', 'ENGRAM_LLM_API_KEY', 'ENGRAM_LLM_BASE_URL'),
  chatCompatible('openai', 'gpt-4.1-mini', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'),
  {
    ...chatCompatible('ollama', 'llama3.2', 'OLLAMA_API_KEY', 'OLLAMA_BASE_URL'),
    env: (url) => ({ OLLAMA_BASE_URL: url }),
    auth: ['authorization', /^Bearer ollama$/],
  },
];

const servers: WireServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function serve(answer: (request: WireRequest) => unknown): Promise<WireServer> {
  const server = await startWireServer((request) => ({ body: answer(request) }));
  servers.push(server);
  return server;
}

describe.each(providers)(
  '$provider LLM against a local server speaking its API (not the hosted service)',
  (wire) => {
    let server: WireServer;
    afterEach(() => {
      server.requests.length = 0;
    });

    async function llm() {
      server ??= await serve(wire.reply);
      return createLLMFromName(wire.llmName, { env: wire.env(server.url) });
    }

    it('answers, with the path, key header and token usage of its API', async () => {
      const model = await llm();
      const result = await model.generate({ messages: [{ role: 'user', content: 'hello there' }] });
      expect(result.text).toBe(answerText);
      expect(result.usage).toMatchObject({ inputTokens: usage.input, outputTokens: usage.output });
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request?.path).toMatch(wire.llmPath);
      expect(String(request?.headers[wire.auth[0]])).toMatch(wire.auth[1]);
      expect(JSON.stringify(request?.body)).toContain('hello there');
    });

    it('401: a non-retryable error, tried once', async () => {
      const model = await llm();
      server.failNext(1, { status: 401, body: wire.errorBody(401) });
      const error = await model
        .generate({ messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error)).toBe(true);
      expect((error as AdapterCallError).isRetryable).toBe(false);
      expect(server.requests).toHaveLength(1);
    });

    it('429 with Retry-After: retried, then answers', async () => {
      const model = await llm();
      server.failNext(1, {
        status: 429,
        headers: { 'retry-after': '0' },
        body: wire.errorBody(429),
      });
      const result = await model.generate({ messages: [{ role: 'user', content: 'x' }] });
      expect(result.text).toBe(answerText);
      expect(server.requests).toHaveLength(2);
    });

    it('500: retried within the budget, then a retryable error', async () => {
      const model = await llm();
      server.failNext(3, {
        status: 500,
        headers: { 'retry-after': '0' },
        body: wire.errorBody(500),
      });
      const error = await model
        .generate({ messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error)).toBe(true);
      expect((error as AdapterCallError).isRetryable).toBe(true);
      // The default budget: the first try and two retries.
      expect(server.requests).toHaveLength(3);
    });

    it('a malformed body: a typed error, not a crash', async () => {
      const model = await llm();
      server.failNext(1, { status: 200, body: '{"this is": not json' });
      const error = await model
        .generate({ messages: [{ role: 'user', content: 'x' }] })
        .catch((caught: unknown) => caught);
      expect(AdapterCallError.isInstance(error)).toBe(true);
    });
  },
);

describe('embedders against local servers speaking each API (not the hosted services)', () => {
  it('cohere: input types by purpose, float embeddings, Bearer key', async () => {
    const server = await serve((request) => {
      const body = request.body as { texts: string[] };
      return {
        id: 'e1',
        embeddings: { float: body.texts.map((text) => vectorFor(text, 1024)) },
        texts: body.texts,
        meta: { billed_units: { input_tokens: 6 } },
      };
    });
    const embedder = createEmbedderFromName('cohere:embed-multilingual-v3.0', {
      env: { COHERE_API_KEY: 'test-key', ENGRAM_EMBEDDER_BASE_URL: `${server.url}/v2` },
    });
    expect(embedder.dimensions).toBe(1024);
    const documents = await embedder.embed({ values: ['a', 'b'], purpose: 'document' });
    expect(documents.embeddings).toHaveLength(2);
    expect(documents.usage?.tokens).toBe(6);
    await embedder.embed({ values: ['q'], purpose: 'query' });
    expect(server.requests.map((request) => request.path)).toEqual(['/v2/embed', '/v2/embed']);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
    expect(server.requests[0]?.body).toMatchObject({
      model: 'embed-multilingual-v3.0',
      input_type: 'search_document',
      texts: ['a', 'b'],
    });
    expect(server.requests[1]?.body).toMatchObject({ input_type: 'search_query' });
  });

  it('voyage: input types by purpose, Bearer key', async () => {
    const server = await serve((request) => {
      const body = request.body as { input: string[] };
      return {
        object: 'list',
        data: body.input.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: vectorFor(text, 1024),
        })),
        model: 'voyage-3.5',
        usage: { total_tokens: 4 },
      };
    });
    const embedder = createEmbedderFromName('voyage:voyage-3.5', {
      env: { VOYAGE_API_KEY: 'test-key', ENGRAM_EMBEDDER_BASE_URL: `${server.url}/v1` },
    });
    const result = await embedder.embed({ values: ['a'], purpose: 'query' });
    expect(result.embeddings[0]).toHaveLength(1024);
    expect(server.requests[0]?.path).toBe('/v1/embeddings');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
    expect(server.requests[0]?.body).toMatchObject({ input_type: 'query', model: 'voyage-3.5' });
  });

  it('google: batchEmbedContents with the task type and the shortened size', async () => {
    const server = await serve((request) => {
      const body = request.body as { requests?: unknown[] };
      const count = body.requests?.length ?? 1;
      const embeddings = Array.from({ length: count }, (_, index) => ({
        values: vectorFor(String(index), 768),
      }));
      return body.requests ? { embeddings } : { embedding: embeddings[0] };
    });
    const embedder = createEmbedderFromName('google:gemini-embedding-001?dimensions=768', {
      env: { GOOGLE_GENERATIVE_AI_API_KEY: 'test-key', ENGRAM_EMBEDDER_BASE_URL: server.url },
    });
    const result = await embedder.embed({ values: ['a', 'b'], purpose: 'document' });
    expect(result.embeddings.map((embedding) => embedding.length)).toEqual([768, 768]);
    expect(server.requests[0]?.path).toBe('/models/gemini-embedding-001:batchEmbedContents');
    expect(server.requests[0]?.headers['x-goog-api-key']).toBe('test-key');
    expect(JSON.stringify(server.requests[0]?.body)).toContain('"taskType":"RETRIEVAL_DOCUMENT"');
    expect(JSON.stringify(server.requests[0]?.body)).toContain('"outputDimensionality":768');
  });

  it('amazon-bedrock: Titan, one signed invoke per text', async () => {
    const server = await serve((request) => ({
      embedding: vectorFor(String((request.body as { inputText: string }).inputText), 1024),
      inputTextTokenCount: 3,
    }));
    const embedder = createEmbedderFromName('amazon-bedrock:amazon.titan-embed-text-v2:0', {
      env: {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret-test',
        ENGRAM_EMBEDDER_BASE_URL: server.url,
      },
    });
    const result = await embedder.embed({ values: ['a', 'b'], purpose: 'document' });
    expect(result.embeddings).toHaveLength(2);
    expect(result.usage?.tokens).toBe(6);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.path).toMatch(
      /^\/model\/amazon\.titan-embed-text-v2(%3A|:)0\/invoke$/,
    );
    expect(String(server.requests[0]?.headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/bedrock\//,
    );
  });

  it('amazon-bedrock: Cohere on Bedrock with input types', async () => {
    const server = await serve((request) => ({
      embeddings: (request.body as { texts: string[] }).texts.map((text) => vectorFor(text, 1024)),
    }));
    const embedder = createEmbedderFromName('amazon-bedrock:cohere.embed-multilingual-v3', {
      env: {
        AWS_REGION: 'us-east-1',
        AWS_BEARER_TOKEN_BEDROCK: 'bedrock-key',
        ENGRAM_EMBEDDER_BASE_URL: server.url,
      },
    });
    await embedder.embed({ values: ['q'], purpose: 'query' });
    expect(server.requests[0]?.body).toMatchObject({ input_type: 'search_query', texts: ['q'] });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer bedrock-key');
  });

  it.each([
    ['mistral:mistral-embed', { MISTRAL_API_KEY: 'test-key' }, 1024],
    ['azure:my-embedding-deployment?dimensions=256', { AZURE_API_KEY: 'test-key' }, 256],
    ['openai-compatible:bge-m3', {}, 1024],
  ] as const)('%s: OpenAI-style embeddings at its own base URL', async (name, keys, dimensions) => {
    const server = await serve((request) => openAIEmbeddingsReply(request, dimensions));
    const embedder = createEmbedderFromName(name, {
      env: { ...keys, ENGRAM_EMBEDDER_BASE_URL: `${server.url}/v1` },
    });
    const result = await embedder.embed({ values: ['a', 'b'], purpose: 'document' });
    expect(result.embeddings.map((embedding) => embedding.length)).toEqual([
      dimensions,
      dimensions,
    ]);
    expect(result.usage?.tokens).toBe(5);
    expect(server.requests[0]?.path).toMatch(/\/embeddings(\?|$)/);
  });
});

describe('rerankers against local servers speaking each API (not the hosted services)', () => {
  it('cohere: /rerank with top_n, scores from relevance_score', async () => {
    const server = await serve(() => ({
      id: 'r1',
      results: [
        { index: 1, relevance_score: 0.9 },
        { index: 0, relevance_score: 0.2 },
      ],
      meta: { billed_units: { search_units: 1 } },
    }));
    const reranker = createRerankerFromName('cohere:rerank-v3.5', {
      env: { ENGRAM_RERANKER_API_KEY: 'rerank-key', ENGRAM_RERANKER_BASE_URL: `${server.url}/v2` },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a', 'b'], topN: 2 });
    expect(result.results).toEqual([
      { index: 1, score: 0.9 },
      { index: 0, score: 0.2 },
    ]);
    expect(server.requests[0]?.path).toBe('/v2/rerank');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer rerank-key');
    expect(server.requests[0]?.body).toMatchObject({ model: 'rerank-v3.5', query: 'q', top_n: 2 });
    expect(result.usage).toEqual({ searchUnits: 1 });
  });

  it('azure: Cohere rerank deployed on Azure AI Foundry, through cohere: and its endpoint', async () => {
    // @ai-sdk/azure has no reranking model; Foundry serves Cohere's own rerank API.
    const server = await serve(() => ({
      id: 'r2',
      results: [{ index: 0, relevance_score: 0.6 }],
      meta: { billed_units: { search_units: 1 } },
    }));
    const reranker = createRerankerFromName('cohere:Cohere-rerank-v3.5', {
      env: {
        ENGRAM_RERANKER_API_KEY: 'foundry-key',
        ENGRAM_RERANKER_BASE_URL: `${server.url}/providers/cohere/v2`,
      },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a'] });
    expect(result.results).toEqual([{ index: 0, score: 0.6 }]);
    expect(server.requests[0]?.path).toBe('/providers/cohere/v2/rerank');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer foundry-key');
    expect(server.requests[0]?.body).toMatchObject({ model: 'Cohere-rerank-v3.5', query: 'q' });
  });

  it('amazon-bedrock: a signed /rerank on the agent runtime with the model ARN', async () => {
    const server = await serve(() => ({
      results: [
        { index: 1, relevanceScore: 0.8 },
        { index: 0, relevanceScore: 0.3 },
      ],
    }));
    const reranker = createRerankerFromName('amazon-bedrock:cohere.rerank-v3-5:0', {
      env: {
        AWS_REGION: 'us-west-2',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret-test',
        ENGRAM_RERANKER_BASE_URL: server.url,
      },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a', 'b'], topN: 2 });
    expect(result.results).toEqual([
      { index: 1, score: 0.8 },
      { index: 0, score: 0.3 },
    ]);
    expect(result.usage).toBeUndefined();
    expect(server.requests[0]?.path).toBe('/rerank');
    expect(String(server.requests[0]?.headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-west-2\/bedrock\//,
    );
    expect(server.requests[0]?.body).toMatchObject({
      queries: [{ type: 'TEXT', textQuery: { text: 'q' } }],
      rerankingConfiguration: {
        type: 'BEDROCK_RERANKING_MODEL',
        bedrockRerankingConfiguration: {
          numberOfResults: 2,
          modelConfiguration: {
            modelArn: 'arn:aws:bedrock:us-west-2::foundation-model/cohere.rerank-v3-5:0',
          },
        },
      },
      sources: [
        { type: 'INLINE', inlineDocumentSource: { type: 'TEXT', textDocument: { text: 'a' } } },
        { type: 'INLINE', inlineDocumentSource: { type: 'TEXT', textDocument: { text: 'b' } } },
      ],
    });
  });

  it('togetherai: /rerank with top_n, tokens from usage', async () => {
    const server = await serve(() => ({
      id: 'r3',
      model: 'Salesforce/Llama-Rank-V1',
      results: [
        { index: 1, relevance_score: 0.9 },
        { index: 0, relevance_score: 0.4 },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 },
    }));
    const reranker = createRerankerFromName('togetherai:Salesforce/Llama-Rank-V1', {
      env: { TOGETHER_AI_API_KEY: 'test-key', ENGRAM_RERANKER_BASE_URL: `${server.url}/v1` },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a', 'b'], topN: 2 });
    expect(result.results.map((entry) => entry.index)).toEqual([1, 0]);
    expect(result.usage).toEqual({ tokens: 12 });
    expect(server.requests[0]?.path).toBe('/v1/rerank');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
    expect(server.requests[0]?.body).toMatchObject({
      model: 'Salesforce/Llama-Rank-V1',
      query: 'q',
      documents: ['a', 'b'],
      top_n: 2,
    });
  });

  /** Each reranker of a provider package, as configured by name, pointed at `url`. */
  const rerankerWires = [
    {
      name: 'amazon-bedrock:cohere.rerank-v3-5:0',
      env: (url: string) => ({
        AWS_REGION: 'us-west-2',
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret-test',
        ENGRAM_RERANKER_BASE_URL: url,
      }),
      errorBody: (status: number) => ({ message: `status ${status}` }),
    },
    {
      name: 'cohere:Cohere-rerank-v3.5',
      env: (url: string) => ({
        ENGRAM_RERANKER_API_KEY: 'foundry-key',
        ENGRAM_RERANKER_BASE_URL: `${url}/providers/cohere/v2`,
      }),
      errorBody: (status: number) => ({ message: `status ${status}` }),
    },
    {
      name: 'togetherai:Salesforce/Llama-Rank-V1',
      env: (url: string) => ({
        TOGETHER_AI_API_KEY: 'test-key',
        ENGRAM_RERANKER_BASE_URL: `${url}/v1`,
      }),
      errorBody: (status: number) => ({ error: { message: `status ${status}` } }),
    },
  ];

  describe.each(rerankerWires)('$name: failures', (wire) => {
    /** One rerank call, without retries, against a server answering `response`. */
    async function failedRerank(response: WireResponse) {
      const server = await startWireServer(() => response);
      servers.push(server);
      const reranker = createRerankerFromName(wire.name, {
        env: wire.env(server.url),
        maxRetries: 0,
      });
      const error = await reranker
        .rerank({ query: 'q', documents: ['a'] })
        .catch((caught) => caught);
      expect(AdapterCallError.isInstance(error), String(error)).toBe(true);
      return { error: error as AdapterCallError, server };
    }

    it.each([
      [401, false],
      [429, true],
      [500, true],
    ] as const)('a %i answer is an AdapterCallError (retryable: %s)', async (status, retryable) => {
      const { error, server } = await failedRerank({
        status,
        body: wire.errorBody(status),
        headers: status === 429 ? { 'retry-after': '0' } : {},
      });
      expect(error.isRetryable).toBe(retryable);
      expect(server.requests).toHaveLength(1);
    });

    it('a malformed body: a typed error, not a crash', async () => {
      await failedRerank({ body: '{"results": [not json' });
    });
  });

  it('voyage: /rerank with top_k', async () => {
    const server = await serve(() => ({
      object: 'list',
      data: [
        { index: 0, relevance_score: 0.7 },
        { index: 1, relevance_score: 0.1 },
      ],
      model: 'rerank-2.5',
      usage: { total_tokens: 9 },
    }));
    const reranker = createRerankerFromName('voyage:rerank-2.5', {
      env: { VOYAGE_API_KEY: 'test-key', ENGRAM_RERANKER_BASE_URL: `${server.url}/v1` },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a', 'b'], topN: 2 });
    expect(result.results.map((entry) => entry.index)).toEqual([0, 1]);
    expect(server.requests[0]?.path).toBe('/v1/rerank');
    expect(server.requests[0]?.body).toMatchObject({ query: 'q', model: 'rerank-2.5' });
    expect(result.usage).toEqual({ tokens: 9 });
  });

  it('llm:<name>: one LLM call scores the documents', async () => {
    const server = await serve((request) => ({
      ...openAIChatReply(request),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: JSON.stringify({
              scores: [
                { index: 1, score: 0.8 },
                { index: 0, score: 0.1 },
              ],
            }),
          },
          finish_reason: 'stop',
        },
      ],
    }));
    const reranker = createRerankerFromName('llm:openai-compatible:qwen2.5-7b', {
      env: { ENGRAM_RERANKER_BASE_URL: `${server.url}/v1` },
    });
    const result = await reranker.rerank({ query: 'q', documents: ['a', 'b', 'c'] });
    expect(result.results.map((entry) => entry.index)).toEqual([1, 0, 2]);
    expect(result.usage).toEqual({ tokens: usage.input + usage.output });
    expect(server.requests).toHaveLength(1);
  });
});

describe('retries of models built by name', () => {
  async function compatible() {
    const server = await serve(openAIChatReply);
    const llm = createLLMFromName('openai-compatible:qwen2.5-7b', {
      env: { ENGRAM_LLM_BASE_URL: `${server.url}/v1` },
    });
    return { server, llm };
  }
  const ask = (llm: ReturnType<typeof createLLMFromName>) =>
    llm.generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);

  it.each([408, 409, 400])('%i is not retried', async (status) => {
    const { server, llm } = await compatible();
    server.failNext(1, { status, headers: { 'retry-after': '0' }, body: openAIError(status) });
    expect(AdapterCallError.isInstance(await ask(llm))).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('a Retry-After beyond a minute is not waited for: a retryable error at once', async () => {
    const { server, llm } = await compatible();
    server.failNext(1, { status: 429, headers: { 'retry-after': '3600' }, body: openAIError(429) });
    const error = await ask(llm);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('retry-after-ms is honoured and maxRetries bounds the budget', async () => {
    const server = await serve(openAIChatReply);
    const llm = createLLMFromName('openai-compatible:qwen2.5-7b', {
      env: { ENGRAM_LLM_BASE_URL: `${server.url}/v1` },
      maxRetries: 4,
    });
    server.failNext(5, { status: 503, headers: { 'retry-after-ms': '1' }, body: openAIError(503) });
    expect(AdapterCallError.isInstance(await ask(llm))).toBe(true);
    expect(server.requests).toHaveLength(5);
  });

  it('a lost connection: a retryable error once the retries are spent', async () => {
    const { server, llm } = await compatible();
    await server.close();
    const error = await ask(llm);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect((error as AdapterCallError).isRetryable).toBe(true);
  });
});

describe('maxRetries in ENGRAM_<ROLE>_OPTIONS', () => {
  const overloaded = { status: 503, headers: { 'retry-after-ms': '1' }, body: openAIError(503) };

  it('LLM: {"maxRetries":0} makes one attempt; the maxRetries option wins', async () => {
    const server = await serve(openAIChatReply);
    const env = { ENGRAM_LLM_BASE_URL: `${server.url}/v1`, ENGRAM_LLM_OPTIONS: '{"maxRetries":0}' };
    const ask = (llm: ReturnType<typeof createLLMFromName>) =>
      llm.generate({ messages: [{ role: 'user', content: 'x' }] }).catch((caught) => caught);
    server.failNext(5, overloaded);
    expect(
      AdapterCallError.isInstance(await ask(createLLMFromName('openai-compatible:q', { env }))),
    ).toBe(true);
    expect(server.requests).toHaveLength(1);
    server.requests.length = 0;
    const retried = await ask(createLLMFromName('openai-compatible:q', { env, maxRetries: 2 }));
    expect(AdapterCallError.isInstance(retried)).toBe(true);
    expect(server.requests).toHaveLength(3);
  });

  it('embedder: {"maxRetries":1} makes two attempts', async () => {
    const server = await serve((request) => openAIEmbeddingsReply(request, 1024));
    const embedder = createEmbedderFromName('openai-compatible:bge-m3', {
      env: {
        ENGRAM_EMBEDDER_BASE_URL: `${server.url}/v1`,
        ENGRAM_EMBEDDER_OPTIONS: '{"maxRetries":1}',
      },
    });
    server.failNext(5, overloaded);
    const error = await embedder
      .embed({ values: ['x'], purpose: 'query' })
      .catch((caught) => caught);
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it('reranker: {"maxRetries":0} makes one attempt, for a provider and for llm:<name>', async () => {
    const server = await serve(() => ({ id: 'r', results: [{ index: 0, relevance_score: 0.5 }] }));
    const env = {
      ENGRAM_RERANKER_API_KEY: 'k',
      ENGRAM_RERANKER_BASE_URL: `${server.url}/v2`,
      ENGRAM_RERANKER_OPTIONS: '{"maxRetries":0}',
    };
    server.failNext(5, overloaded);
    const rerank = (reranker: ReturnType<typeof createRerankerFromName>) =>
      reranker.rerank({ query: 'q', documents: ['a'] }).catch((caught) => caught);
    expect(
      AdapterCallError.isInstance(
        await rerank(createRerankerFromName('cohere:rerank-v3.5', { env })),
      ),
    ).toBe(true);
    expect(server.requests).toHaveLength(1);
    const llmServer = await serve(openAIChatReply);
    llmServer.failNext(5, overloaded);
    const byLLM = createRerankerFromName('llm:openai-compatible:q', {
      env: { ...env, ENGRAM_RERANKER_BASE_URL: `${llmServer.url}/v1` },
    });
    await rerank(byLLM);
    expect(llmServer.requests).toHaveLength(1);
  });

  it('refuses a maxRetries that is not a whole number, naming the variable', () => {
    expect(() =>
      createEmbedderFromName('openai-compatible:bge-m3', {
        env: {
          ENGRAM_EMBEDDER_BASE_URL: 'http://127.0.0.1:9/v1',
          ENGRAM_EMBEDDER_OPTIONS: '{"maxRetries":"none"}',
        },
      }),
    ).toThrow(/maxRetries in ENGRAM_EMBEDDER_OPTIONS must be a whole number/);
  });
});

describe('settings per role', () => {
  it('OpenAI for the LLM, a self-hosted embedding server for the embedder', async () => {
    const llmServer = await serve(openAIChatReply);
    const embeddingServer = await serve((request) => openAIEmbeddingsReply(request, 1024));
    const env = {
      OPENAI_API_KEY: 'sk-llm',
      OPENAI_BASE_URL: `${llmServer.url}/v1`,
      ENGRAM_EMBEDDER_BASE_URL: `${embeddingServer.url}/v1`,
      ENGRAM_EMBEDDER_API_KEY: 'embedding-key',
    };
    await createLLMFromName('openai:gpt-4.1-mini', { env }).generate({
      messages: [{ role: 'user', content: 'x' }],
    });
    await createEmbedderFromName('openai-compatible:bge-m3', { env }).embed({
      values: ['x'],
      purpose: 'document',
    });
    expect(llmServer.requests[0]?.headers.authorization).toBe('Bearer sk-llm');
    expect(embeddingServer.requests[0]?.headers.authorization).toBe('Bearer embedding-key');
  });

  it('ENGRAM_<ROLE>_OPTIONS passes provider settings (Azure resource name)', () => {
    expect(() =>
      createLLMFromName('azure:gpt', { env: { ENGRAM_LLM_OPTIONS: '{"resourceName":' } }),
    ).toThrow(/ENGRAM_LLM_OPTIONS must be a JSON object/);
    const llm = createLLMFromName('azure:gpt', {
      env: { ENGRAM_LLM_OPTIONS: '{"resourceName":"acme"}', AZURE_API_KEY: 'k' },
    });
    expect(llm.provider).toBe('azure');
  });

  it('names the package to install when a provider package is missing', async () => {
    const llm = createLLMFromName('anthropic:claude-sonnet-4-5', {
      env: { ANTHROPIC_API_KEY: 'k' },
      importPackage: async (specifier) => {
        throw Object.assign(new Error(`Cannot find package '${specifier}'`), {
          code: 'ERR_MODULE_NOT_FOUND',
        });
      },
    });
    const error = await llm
      .generate({ messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(String(error)).toMatch(/npm install @ai-sdk\/anthropic@\^3/);
  });

  it('asks for a key or a base URL before any call', () => {
    expect(() => createLLMFromName('anthropic:claude-sonnet-4-5', { env: {} })).toThrow(
      /ANTHROPIC_API_KEY or ENGRAM_LLM_API_KEY/,
    );
    expect(() => createLLMFromName('openai-compatible:qwen', { env: {} })).toThrow(
      /ENGRAM_LLM_BASE_URL/,
    );
  });
});
