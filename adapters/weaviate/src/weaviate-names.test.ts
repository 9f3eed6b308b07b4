import { describe, expect, it } from 'vitest';
import { fromClassName, toClassName } from './weaviate-names.js';

describe('toClassName', () => {
  it.each([
    ['memories', 'Ememories'],
    ['engram_conformance_x1', 'Eengram__conformance__x1'],
    ['Memories', 'E_x4d_emories'],
    ['a-b.c', 'Ea_x2d_b_x2e_c'],
    ['記憶', 'E_x8a18__x61b6_'],
  ])('%s -> %s', (collection, className) => {
    expect(toClassName(collection)).toBe(className);
    expect(toClassName(collection)).toMatch(/^[A-Z][_0-9A-Za-z]*$/);
    expect(fromClassName(className)).toBe(collection);
  });

  it('keeps names that differ by case apart', () => {
    expect(toClassName('abc').toLowerCase()).not.toBe(toClassName('ABC').toLowerCase());
  });

  it('rejects names it did not make', () => {
    expect(fromClassName('Article')).toBeUndefined();
    expect(fromClassName('E_y_')).toBeUndefined();
  });
});
