import { describe, expect, it } from 'vitest';
import { isStrictCompatibleSchema } from './ai-sdk-errors.js';

describe('isStrictCompatibleSchema', () => {
  const closed = (properties: Record<string, unknown>) => ({
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  });

  it.each([
    ['a closed object with every property required', closed({ a: { type: 'string' } }), true],
    [
      'nested closed objects in arrays',
      closed({ items: { type: 'array', items: closed({ id: { type: 'string' } }) } }),
      true,
    ],
    ['a non-object root', { type: 'string' }, true],
    ['an object without additionalProperties: false', { type: 'object', properties: {} }, false],
    [
      'an optional property',
      { ...closed({ a: { type: 'string' }, b: { type: 'string' } }), required: ['a'] },
      false,
    ],
    [
      'an open object nested in an array',
      closed({ items: { type: 'array', items: { type: 'object', properties: {} } } }),
      false,
    ],
    ['an open object in anyOf', { anyOf: [{ type: 'object', properties: {} }] }, false],
    ['an open object in $defs', { ...closed({}), $defs: { x: { type: 'object' } } }, false],
  ])('%s -> %s', (_label, schema, expected) => {
    expect(isStrictCompatibleSchema(schema)).toBe(expected);
  });
});
