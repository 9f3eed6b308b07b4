import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from './server-config.js';

describe('loadServerConfig', () => {
  it('uses defaults, then the file, then the environment, then flags', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const file = join(directory, 'engram.yaml');
      writeFileSync(
        file,
        'port: 9000\nhost: 10.0.0.1\nllm: none\nrateLimit:\n  burst: 7\nvectorStore:\n  provider: pgvector\n  options:\n    schema: engram\n',
      );
      expect(loadServerConfig({}, { ENGRAM_HOME: directory })).toMatchObject({
        host: '0.0.0.0',
        port: 8080,
        vectorStore: { provider: 'sqlite' },
        rateLimit: { requestsPerSecond: 50, burst: 100 },
        queue: { name: 'engram-add', inProcessWorkers: 2 },
      });
      expect(
        loadServerConfig({}, { ENGRAM_HOME: directory, ENGRAM_PROJECT_RATE_LIMIT_RPS: '2.5' })
          .rateLimit,
      ).toEqual({
        requestsPerSecond: 50,
        burst: 100,
        project: { requestsPerSecond: 2.5, burst: 5 },
      });
      const config = loadServerConfig(
        { port: 9100 },
        {
          ENGRAM_CONFIG: file,
          ENGRAM_HOME: directory,
          ENGRAM_HOST: '127.0.0.2',
          ENGRAM_VECTOR_STORE_URL: 'postgres://db/engram',
          REDIS_URL: 'redis://127.0.0.1:6379',
        },
      );
      expect(config).toMatchObject({
        host: '127.0.0.2',
        port: 9100,
        llm: 'none',
        rateLimit: { burst: 7 },
        vectorStore: {
          provider: 'pgvector',
          url: 'postgres://db/engram',
          options: { schema: 'engram' },
        },
        queue: { redisUrl: 'redis://127.0.0.1:6379' },
      });
      expect(config.env.ENGRAM_LLM).toBe('none');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reads each model role with its own base URL, key and options; variables win', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const file = join(directory, 'engram.yaml');
      writeFileSync(
        file,
        [
          'llm: anthropic:claude-sonnet-4-5',
          'embedder:',
          '  model: openai-compatible:bge-m3',
          '  baseUrl: http://embeddings.internal/v1',
          '  apiKey: embedding-key',
          'reranker:',
          '  model: amazon-bedrock:amazon.rerank-v1:0',
          '  options:',
          '    region: eu-west-1',
          '',
        ].join('\n'),
      );
      const config = loadServerConfig(
        {},
        {
          ENGRAM_CONFIG: file,
          ENGRAM_HOME: directory,
          ENGRAM_EMBEDDER_API_KEY: 'from-environment',
        },
      );
      expect(config.llm).toBe('anthropic:claude-sonnet-4-5');
      expect(config.embedder).toBe('openai-compatible:bge-m3');
      expect(config.reranker).toBe('amazon-bedrock:amazon.rerank-v1:0');
      expect(config.env).toMatchObject({
        ENGRAM_LLM: 'anthropic:claude-sonnet-4-5',
        ENGRAM_EMBEDDER_BASE_URL: 'http://embeddings.internal/v1',
        ENGRAM_EMBEDDER_API_KEY: 'from-environment',
        ENGRAM_RERANKER: 'amazon-bedrock:amazon.rerank-v1:0',
        ENGRAM_RERANKER_OPTIONS: '{"region":"eu-west-1"}',
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('serves TLS only with both readable PEM files, TLS 1.3 at least by default', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const cert = join(directory, 'cert.pem');
      const key = join(directory, 'key.pem');
      writeFileSync(cert, 'certificate');
      writeFileSync(key, 'key');
      expect(loadServerConfig({ tlsCert: cert, tlsKey: key }, {}).tls).toEqual({
        cert,
        key,
        minVersion: 'TLSv1.3',
      });
      const env = { ENGRAM_TLS_CERT: cert, ENGRAM_TLS_KEY: key, ENGRAM_TLS_MIN_VERSION: 'TLSv1.2' };
      expect(loadServerConfig({}, env).tls?.minVersion).toBe('TLSv1.2');
      expect(loadServerConfig({}, {}).tls).toBeUndefined();
      expect(() => loadServerConfig({ tlsKey: key }, {})).toThrow(
        /--tls-cert \(ENGRAM_TLS_CERT\) is missing: TLS needs both/,
      );
      expect(() =>
        loadServerConfig({ tlsCert: cert, tlsKey: join(directory, 'nope.pem') }, {}),
      ).toThrow(/--tls-key .*nope\.pem: the file cannot be read/);
      expect(() => loadServerConfig({}, { ...env, ENGRAM_TLS_MIN_VERSION: 'TLSv1.0' })).toThrow(
        'ENGRAM_TLS_MIN_VERSION must be TLSv1.2 or TLSv1.3, got "TLSv1.0".',
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it("reads the worker's own metrics port from the environment or the file", () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const file = join(directory, 'engram.yaml');
      writeFileSync(file, 'metrics:\n  port: 9464\n  workerPort: 9465\n');
      const env = { ENGRAM_HOME: directory };
      expect(loadServerConfig({ configFile: file }, env).metrics).toMatchObject({
        port: 9464,
        workerPort: 9465,
      });
      expect(
        loadServerConfig({ configFile: file }, { ...env, ENGRAM_WORKER_METRICS_PORT: '9470' })
          .metrics.workerPort,
      ).toBe(9470);
      expect(loadServerConfig({}, env).metrics.workerPort).toBeUndefined();
      expect(() => loadServerConfig({}, { ...env, ENGRAM_WORKER_METRICS_PORT: 'x' })).toThrow(
        /ENGRAM_WORKER_METRICS_PORT/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('binds to 127.0.0.1 with insecureLocal, whatever the host', () => {
    expect(loadServerConfig({ insecureLocal: true, host: '0.0.0.0' }, {}).host).toBe('127.0.0.1');
  });

  it('reads how often the embedder records are looked at', () => {
    expect(loadServerConfig({}, {}).embedderCheckMs).toBe(1000);
    expect(loadServerConfig({}, { ENGRAM_EMBEDDER_CHECK_MS: '0' }).embedderCheckMs).toBe(0);
    expect(() => loadServerConfig({}, { ENGRAM_EMBEDDER_CHECK_MS: '-1' })).toThrow(
      /ENGRAM_EMBEDDER_CHECK_MS/,
    );
  });

  it('names the setting to fix', () => {
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const file = join(directory, 'engram.json');
      writeFileSync(file, JSON.stringify({ port: 'x', unknown: 1 }));
      expect(() => loadServerConfig({ configFile: file }, {})).toThrow(
        /port.*unknown|unknown.*port/s,
      );
      expect(() => loadServerConfig({}, { ENGRAM_PORT: 'eighty' })).toThrow(/ENGRAM_PORT/);
      expect(() => loadServerConfig({}, { ENGRAM_LOG_LEVEL: 'loud' })).toThrow(
        InvalidArgumentError,
      );
      expect(() => loadServerConfig({}, { REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
      expect(() => loadServerConfig({}, { ENGRAM_VECTOR_STORE: '@evil/pkg' })).toThrow(
        /ENGRAM_VECTOR_STORE/,
      );
      expect(() => loadServerConfig({ configFile: join(directory, 'missing.yaml') }, {})).toThrow(
        /Cannot read/,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reads the history text retention from the environment or the file', () => {
    expect(loadServerConfig({}, {}).historyTextRetentionMs).toBeUndefined();
    expect(
      loadServerConfig({}, { ENGRAM_HISTORY_TEXT_RETENTION: '90d' }).historyTextRetentionMs,
    ).toBe(90 * 24 * 60 * 60 * 1000);
    expect(
      loadServerConfig({}, { ENGRAM_HISTORY_TEXT_RETENTION: 'off' }).historyTextRetentionMs,
    ).toBeUndefined();
    expect(() => loadServerConfig({}, { ENGRAM_HISTORY_TEXT_RETENTION: 'soon' })).toThrow(
      /ENGRAM_HISTORY_TEXT_RETENTION.*90d/,
    );
    const directory = mkdtempSync(join(tmpdir(), 'engram-config-'));
    try {
      const file = join(directory, 'engram.yaml');
      writeFileSync(file, 'historyTextRetention: 12h\n');
      expect(loadServerConfig({ configFile: file }, {}).historyTextRetentionMs).toBe(
        12 * 60 * 60 * 1000,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
  it('selects the queue with ENGRAM_QUEUE and names the URL each one needs', () => {
    expect(loadServerConfig({}, {}).queue.backend).toBe('memory');
    expect(loadServerConfig({}, { REDIS_URL: 'redis://h:6379' }).queue.backend).toBe('bullmq');
    expect(
      loadServerConfig({}, { ENGRAM_QUEUE: 'rabbitmq', RABBITMQ_URL: 'amqp://h:5672' }).queue,
    ).toMatchObject({ backend: 'rabbitmq', rabbitmqUrl: 'amqp://h:5672' });
    expect(
      loadServerConfig({}, { ENGRAM_QUEUE: 'sqs', SQS_ENDPOINT: 'http://h:9324' }).queue,
    ).toMatchObject({ backend: 'sqs', sqsEndpoint: 'http://h:9324' });
    expect(() => loadServerConfig({}, { ENGRAM_QUEUE: 'rabbitmq' })).toThrow(/RABBITMQ_URL/);
    expect(() => loadServerConfig({}, { ENGRAM_QUEUE: 'bullmq' })).toThrow(/REDIS_URL/);
    expect(() => loadServerConfig({}, { ENGRAM_QUEUE: 'kafka' })).toThrow(/ENGRAM_QUEUE/);
    expect(() =>
      loadServerConfig({}, { ENGRAM_QUEUE: 'rabbitmq', RABBITMQ_URL: 'http://h' }),
    ).toThrow(/amqp:\/\//);
  });
});
