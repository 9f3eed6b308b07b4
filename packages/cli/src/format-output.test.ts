import { describe, expect, it } from 'vitest';
import {
  escapeForTerminal,
  formatChanges,
  formatHistory,
  formatJson,
  formatMemory,
  formatRelations,
} from './format-output.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('escapeForTerminal', () => {
  it.each([
    ['plain text, ünïcödé and 😀', 'plain text, ünïcödé and 😀'],
    ['bell\u0007', 'bell\\x07'],
    ['\u001b[2J', '\\x1b[2J'],
    ['csi \u009b', 'csi \\x9b'],
    ['del \u007f', 'del \\x7f'],
    ['rtl \u202e override', 'rtl \\u202e override'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['lone \ud800 half', 'lone \\ud800 half'],
    ['back\\slash', 'back\\slash'],
    ['cr\rlf\nand\ttab', 'cr\\rlf\\nand\\ttab'],
  ])('%j', (input, expected) => {
    expect(escapeForTerminal(input)).toBe(expected);
  });
});

describe('formatters escape stored strings', () => {
  const hostile = 'x\u001b]0;title\u0007y\u009b\u202e';
  it('in every human format', () => {
    const outputs = [
      formatMemory({
        id: hostile,
        memory: `${hostile}\nid:       forged`,
        userId: hostile,
        metadata: { [hostile]: hostile },
        createdAt: hostile,
        updatedAt: hostile,
      }),
      formatChanges([{ id: hostile, memory: hostile, event: 'UPDATE', previousMemory: hostile }]),
      formatHistory([
        {
          id: hostile,
          namespace: 'memories',
          memoryId: hostile,
          event: 'UPDATE',
          previousText: hostile,
          newText: hostile,
          createdAt: hostile,
        },
      ]),
      formatRelations([
        { id: hostile, source: hostile, relationship: hostile, destination: hostile },
      ]),
    ];
    for (const output of outputs) {
      expect(output.replaceAll('\n', '')).not.toMatch(unsafe);
      expect(output).toContain('\\x1b]0;title\\x07');
    }
    // A newline in the text cannot forge another field.
    expect(outputs[0]!.split('\n').filter((line) => line.startsWith('id:'))).toHaveLength(1);
  });

  it('in JSON, which stays valid JSON', () => {
    const text = formatJson({ memory: hostile });
    expect(text.trimEnd()).not.toMatch(unsafe);
    expect(JSON.parse(text)).toEqual({ memory: hostile });
  });
});
