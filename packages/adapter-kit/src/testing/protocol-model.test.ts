import { AdapterCallError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  awsErrorProtocol,
  injectedFailureOutcomes,
  ProtocolModelError,
  type RecordingModel,
  sampleVectorRecord,
  startRecordingModel,
} from './protocol-model.js';

interface Recorded {
  path: string;
  body: Record<string, unknown>;
}

describe('startRecordingModel', () => {
  it('records requests, lets intercept answer first, and maps failures to the error shape', async () => {
    const model = await startRecordingModel(
      { url: '', requests: [], close: async () => {} } as RecordingModel<Recorded, number>,
      {
        record: (incoming) => ({ path: incoming.path, body: incoming.body }),
        route: (request) => {
          if (request.path === '/missing') throw new ProtocolModelError(404, 'NOPE', 'not here');
          if (request.path === '/broken') throw new Error('model bug');
          return { echo: request.body };
        },
        success: (body) => ({ status: 200, body: { result: body } }),
        failure: (error) => ({
          status: error.status,
          body: { code: error.code, message: error.message },
        }),
        unexpected: (caught) => new ProtocolModelError(500, 'INTERNAL', String(caught)),
        injected: (status) => ({ status, body: { injected: true } }),
      },
    );
    try {
      const post = (path: string) =>
        fetch(`${model.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: 1 }),
        }).then(async (response) => [response.status, await response.json()]);
      expect(await post('/ok')).toEqual([200, { result: { echo: { id: 1 } } }]);
      expect(await post('/missing')).toEqual([404, { code: 'NOPE', message: 'not here' }]);
      expect(await post('/broken')).toEqual([
        500,
        { code: 'INTERNAL', message: 'Error: model bug' },
      ]);
      model.intercept = (request) => (request.path === '/ok' ? 503 : undefined);
      expect(await post('/ok')).toEqual([503, { injected: true }]);
      expect(model.requests.map((request) => request.path)).toEqual([
        '/ok',
        '/missing',
        '/broken',
        '/ok',
      ]);
    } finally {
      await model.close();
    }
  });
});

describe('awsErrorProtocol', () => {
  it('names the error in x-amzn-errortype, for model mistakes and injected failures too', () => {
    expect(awsErrorProtocol.injected({ status: 429, type: 'ThrottlingException' })).toEqual({
      status: 429,
      headers: { 'x-amzn-errortype': 'ThrottlingException' },
      body: { message: 'model: ThrottlingException' },
    });
    expect(awsErrorProtocol.unexpected(new Error('bad'))).toMatchObject({
      status: 400,
      code: 'ValidationException',
    });
  });
});

describe('request-shape helpers', () => {
  it('builds the sample record with a seed on top', () => {
    expect(sampleVectorRecord({ id: 'b' })).toMatchObject({ id: 'b', vector: [1, 0, 0, 0] });
  });

  it('reports how each injected failure surfaced', async () => {
    let failing: number | undefined;
    const outcomes = await injectedFailureOutcomes([503, 400, 0], {
      label: String,
      inject: (status) => {
        failing = status;
      },
      call: async () => {
        if (failing === 0) return;
        if (failing === 400) throw new TypeError('bad');
        throw new AdapterCallError({ source: 'test', message: 'down', isRetryable: true });
      },
    });
    expect(outcomes).toEqual([
      { label: '503', name: 'AdapterCallError', isRetryable: true },
      { label: '400', name: 'TypeError', isRetryable: undefined },
      { label: '0', name: 'resolved', isRetryable: undefined },
    ]);
  });
});
