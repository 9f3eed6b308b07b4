import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { boundJsonSchema, createLlamaCppLLM, resolveGgufPath } from './llama-cpp-llm.js';

const directory = mkdtempSync(join(tmpdir(), 'engram-gguf-'));
for (const name of ['SmolLM2-135M-Instruct.Q4_1.gguf', 'other.gguf', 'notes.txt']) {
  writeFileSync(join(directory, name), '');
}
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('resolveGgufPath', () => {
  it.each([
    ['local:SmolLM2-135M-Instruct.Q4_1.gguf', 'SmolLM2-135M-Instruct.Q4_1.gguf'],
    ['local:other', 'other.gguf'],
    ['SmolLM2-135M', 'SmolLM2-135M-Instruct.Q4_1.gguf'],
    ['local', 'SmolLM2-135M-Instruct.Q4_1.gguf'],
  ])('finds %s in the models directory', (name, file) => {
    expect(resolveGgufPath(name, directory)).toBe(join(directory, file));
  });

  it('takes a path as it is', () => {
    const path = join(directory, 'other.gguf');
    expect(resolveGgufPath(`local:${path}`, undefined)).toBe(path);
  });

  it('names what the directory holds when nothing matches', () => {
    expect(() => resolveGgufPath('llama-3', directory)).toThrow(NotFoundError);
    expect(() => resolveGgufPath('llama-3', directory)).toThrow(
      /SmolLM2-135M-Instruct\.Q4_1\.gguf/,
    );
    expect(() => resolveGgufPath('llama-3', undefined)).toThrow(/ENGRAM_MODELS_DIR/);
  });
});

describe('createLlamaCppLLM', () => {
  it('reads its settings from the environment and checks them without loading anything', () => {
    const llm = createLlamaCppLLM({
      env: { ENGRAM_MODELS_DIR: directory, ENGRAM_LLM_THREADS: '2' },
      model: 'local:other',
    });
    expect(llm).toMatchObject({ provider: 'llama-cpp', modelId: 'other' });
    expect(() =>
      createLlamaCppLLM({ env: { ENGRAM_LLM_THREADS: 'many' }, modelPath: llm.modelPath }),
    ).toThrow(/ENGRAM_LLM_THREADS/);
  });
});

describe('boundJsonSchema', () => {
  it('bounds strings and arrays the schema leaves open, and nothing else', () => {
    expect(
      boundJsonSchema({
        type: 'object',
        properties: {
          facts: { type: 'array', items: { type: 'string' } },
          event: { type: 'string', enum: ['ADD', 'NONE'] },
          short: { type: 'string', maxLength: 10 },
        },
        required: ['facts'],
      }),
    ).toEqual({
      type: 'object',
      properties: {
        facts: { type: 'array', items: { type: 'string', maxLength: 400 }, maxItems: 24 },
        event: { type: 'string', enum: ['ADD', 'NONE'] },
        short: { type: 'string', maxLength: 10 },
      },
      required: ['facts'],
    });
  });
});
