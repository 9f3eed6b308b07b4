import { describe, expect, it } from 'vitest';
import {
  createIndexCommand,
  keywordTextField,
  keywordTextFillKey,
  prefixPattern,
} from './redis-compatible-commands.js';

describe('keyword text fill', () => {
  it('matches the keys under a prefix, with glob characters of the prefix taken literally', () => {
    expect(prefixPattern('engram:notes:')).toBe('engram:notes:*');
    expect(prefixPattern('app*[1]?\\:')).toBe('app\\*\\[1\\]\\?\\\\:*');
  });

  it('keeps its progress beside the index name, outside the key prefix of that collection', () => {
    expect(keywordTextFillKey('engram:idx:notes')).toBe('engram:idx:notes:keyword-text-fill');
    expect(keywordTextFillKey('engram:idx:notes').startsWith('engram:notes:')).toBe(false);
  });

  it('creates full-text indexes with the keyword text field and others without', () => {
    expect(createIndexCommand('i', 'p:', 3)).toContain(keywordTextField);
    expect(createIndexCommand('i', 'p:', 3, false)).not.toContain(keywordTextField);
  });
});
