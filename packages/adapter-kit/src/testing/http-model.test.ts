import { describe, expect, it } from 'vitest';
import { cosineSimilarity, type HttpModelRequest, startHttpModel } from './http-model.js';

describe('startHttpModel', () => {
  it('hands each request to the model with its parsed JSON body, and sends the answer', async () => {
    const seen: HttpModelRequest[] = [];
    const server = await startHttpModel((request) => {
      seen.push(request);
      if (request.path === '/broken') throw new Error('no such route');
      return { status: 201, headers: { 'x-model': 'yes' }, body: { echo: request.body } };
    });
    try {
      const response = await fetch(`${server.url}/items?kind=a`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 1 }),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-model')).toBe('yes');
      expect(await response.json()).toEqual({ echo: { id: 1 } });
      expect(seen[0]).toMatchObject({ method: 'POST', path: '/items', text: '{"id":1}' });
      expect(seen[0]!.search.get('kind')).toBe('a');
      const broken = await fetch(`${server.url}/broken`, { body: 'plain', method: 'POST' });
      expect(broken.status).toBe(500);
      expect(await broken.json()).toEqual({ message: 'model: Error: no such route' });
      expect(seen[1]!.body).toEqual({});
    } finally {
      await server.close();
    }
  });

  it('computes cosine similarity, 0 for a zero vector', () => {
    expect(cosineSimilarity([1, 0], [1, 0])).toBe(1);
    expect(cosineSimilarity([1, 0], [-2, 0])).toBe(-1);
    expect(cosineSimilarity([0, 0], [1, 0])).toBe(0);
  });
});
