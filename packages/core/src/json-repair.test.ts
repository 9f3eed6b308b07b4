import { describe, expect, it } from 'vitest';
import { parseModelJson } from './json-repair.js';

describe('parseModelJson', () => {
  it.each([
    ['{"facts": ["a"]}', { facts: ['a'] }],
    ['```json\n{"facts": ["a"]}\n```', { facts: ['a'] }],
    ['```\n{"facts": ["a"]}\n```', { facts: ['a'] }],
    ['<think>the user said a</think>{"facts": ["a"]}', { facts: ['a'] }],
    ['Here you go: {"facts": ["a", "b"]} hope it helps', { facts: ['a', 'b'] }],
    ['{"facts": ["a", "b",],}', { facts: ['a', 'b'] }],
    ['{"facts": ["a", "b', { facts: ['a', 'b'] }],
    ['{"memory": [{"event": "ADD", "text": "x"}', { memory: [{ event: 'ADD', text: 'x' }] }],
    ['\u201cfacts\u201d', undefined],
    ['["a", "b"]', ['a', 'b']],
    ['', undefined],
    ['no json here', undefined],
  ])('%j', (text, expected) => {
    expect(parseModelJson(text)).toEqual(expected);
  });
});
