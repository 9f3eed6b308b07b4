import { singleCallSchemaName } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { createClusteredCorpus } from './clustered.js';
import { benchChat, factsOfTranscript } from './fake-model.js';
import { parseProcStat, processTreeCpuSeconds } from './process-cpu.js';
import { replaceSection } from './report.js';
import { recallAtK } from './scale.js';
import { hashEmbedderSetting, mergeServiceSection, serviceBlock } from './service.js';

describe('recall against exact search', () => {
  it('counts the exact top-k found', () => {
    expect(recallAtK(['a', 'b', 'c'], ['a', 'c', 'd'], 3)).toBeCloseTo(2 / 3);
    expect(recallAtK(['a', 'b'], ['a', 'b'], 2)).toBe(1);
    expect(recallAtK([], ['a'], 1)).toBe(0);
  });
});

describe('clustered corpus', () => {
  it('is deterministic, normalized, and clustered', () => {
    const corpus = createClusteredCorpus({ users: 10 });
    const first = corpus.memory(3);
    expect(corpus.memory(3)).toEqual(first);
    const norm = Math.hypot(...first.vector);
    expect(norm).toBeCloseTo(1, 5);
    const dot = (left: Float32Array, right: Float32Array) =>
      left.reduce((sum, value, index) => sum + value * right[index]!, 0);
    // Memories of the same user often share a topic; random unit vectors in 384-d are ~orthogonal.
    const sameUser = Array.from({ length: 20 }, (_, index) => corpus.memory(3 + index * 10));
    const best = Math.max(...sameUser.slice(1).map((item) => dot(first.vector, item.vector)));
    expect(best).toBeGreaterThan(0.3);
  });
});

describe('fake model', () => {
  it('answers Engram extraction, reconciliation, single call and mem0 extraction the same way', () => {
    const transcript = 'user: Lives in Oslo. Likes tea.\nassistant: Nice.';
    expect(factsOfTranscript(transcript)).toEqual(['Lives in Oslo', 'Likes tea']);
    const request = (content: string, name?: string) => ({
      api: 'chat' as const,
      model: 'm',
      stream: false,
      body: {},
      messages: [{ role: 'user', content }],
      ...(name
        ? { responseFormat: { type: 'json_schema', json_schema: { name } } }
        : { responseFormat: { type: 'json_object' } }),
    });
    expect(benchChat(request(`Conversation:\n${transcript}`, 'engram_facts'))).toEqual({
      facts: ['Lives in Oslo', 'Likes tea'],
    });
    expect(
      benchChat(
        request(
          `Existing memories:\n${JSON.stringify([{ id: '0', text: 'Lives in Bergen' }])}\n\nNew facts:\n${JSON.stringify(['Lives in Oslo', 'Likes tea'])}`,
          'engram_memory_changes',
        ),
      ),
    ).toEqual({
      memory: [
        { event: 'UPDATE', id: '0', text: 'Lives in Oslo' },
        { event: 'ADD', id: '', text: 'Likes tea' },
      ],
    });
    expect(
      benchChat(
        request(
          `Existing memories:\n${JSON.stringify([
            { id: '0', text: 'Lives in Bergen' },
            { id: '1', text: 'Likes tea' },
          ])}\n\nConversation:\n${transcript}`,
          singleCallSchemaName,
        ),
      ),
    ).toEqual({
      memory: [
        { event: 'UPDATE', id: '0', text: 'Lives in Oslo' },
        { event: 'NONE', id: '1', text: '' },
      ],
    });
    expect(
      benchChat(
        request(
          `## Existing Memories\n[]\n\n## New Messages\n${transcript}\n\n## Observation Date\nx`,
        ),
      ),
    ).toEqual({
      memory: [
        { id: '0', text: 'Lives in Oslo', attributed_to: 'user' },
        { id: '1', text: 'Likes tea', attributed_to: 'user' },
      ],
    });
  });
});

describe('report sections', () => {
  it('replaces a marked section, or appends it', () => {
    const appended = replaceSection('# Benchmarks\n', 'scale', 'first');
    expect(appended).toBe('# Benchmarks\n\n<!-- bench:scale -->\nfirst\n<!-- /bench:scale -->\n');
    const replaced = replaceSection(`${appended}\nafter\n`, 'scale', 'second');
    expect(replaced).toContain('<!-- bench:scale -->\nsecond\n<!-- /bench:scale -->\n\nafter');
    expect(replaced).not.toContain('first');
  });
});

describe('scale results kept in the document', () => {
  it('reads the data comment back, and nothing from a page without one', async () => {
    const { previousResults } = await import('./scale.js');
    expect(previousResults('# Benchmarks\n')).toEqual([]);
    expect(previousResults('<!-- scale-data: [{"size":10000}] -->')).toEqual([{ size: 10000 }]);
    expect(previousResults('<!-- scale-data: not json -->')).toEqual([]);
  });
});

describe('mergeServiceSection', () => {
  it('keeps each backend of the service section until that backend runs again', () => {
    const first = mergeServiceSection('', 'sqlite', 'sqlite rows');
    expect(first).toBe('sqlite rows');
    const withPgvector = mergeServiceSection(first, 'pgvector', 'pgvector rows');
    expect(withPgvector).toContain('sqlite rows');
    expect(withPgvector).toContain(
      '<!-- service-backend:pgvector -->\n### On pgvector\n\npgvector rows\n<!-- /service-backend:pgvector -->',
    );
    const again = mergeServiceSection(
      mergeServiceSection(withPgvector, 'redis', 'redis rows'),
      'sqlite',
      'new sqlite rows',
    );
    expect(again.startsWith('new sqlite rows')).toBe(true);
    expect(again).not.toContain('\nsqlite rows');
    expect(again).toContain('pgvector rows');
    expect(again).toContain('redis rows');
    const replaced = mergeServiceSection(again, 'pgvector', 'newer pgvector rows');
    expect(replaced.match(/service-backend:pgvector -->/g)).toHaveLength(2);
    expect(replaced).toContain('newer pgvector rows');
    expect(replaced).not.toContain('\npgvector rows');
  });

  it('keeps a run at another size or vector length in a block of its own', () => {
    expect(serviceBlock('pgvector', 100_000, 384)).toEqual({
      key: 'pgvector',
      heading: 'On pgvector',
    });
    const large = serviceBlock('pgvector-ivfflat', 1_000_000, 1536);
    expect(large).toEqual({
      key: 'pgvector-ivfflat-1m-1536',
      heading: 'On pgvector-ivfflat, 1M memories x 1,536 dimensions',
    });
    expect(serviceBlock('redis', 1500, 384).key).toBe('redis-1-5k-384');
    const both = mergeServiceSection(
      mergeServiceSection('sqlite rows', 'pgvector', 'pgvector rows'),
      large.key,
      'large rows',
      large.heading,
    );
    expect(both).toContain('pgvector rows');
    expect(both).toContain(
      '<!-- service-backend:pgvector-ivfflat-1m-1536 -->\n### On pgvector-ivfflat, 1M memories x 1,536 dimensions\n\nlarge rows\n',
    );
    expect(mergeServiceSection(both, large.key, 'newer', large.heading)).not.toContain(
      'large rows',
    );
  });

  it('runs the hash embedder at the vector length of the run', () => {
    expect(hashEmbedderSetting(384)).toBe('hash');
    expect(hashEmbedderSetting(1536)).toBe('hash:1536');
  });
});

describe('process CPU from /proc', () => {
  it('reads the parent and the CPU ticks after a command name with spaces and parentheses', () => {
    const line =
      '4242 (node (worker) x) S 4200 4242 4200 0 -1 4194304 100 0 0 0 150 25 3 1 20 0 11 0 500';
    expect(parseProcStat(line)).toEqual({ ppid: 4200, ticks: 175 });
  });

  it('counts this process on Linux', () => {
    const seconds = processTreeCpuSeconds(process.pid);
    if (process.platform === 'linux') expect(seconds).toBeGreaterThan(0);
    else expect(seconds).toBeUndefined();
  });
});
