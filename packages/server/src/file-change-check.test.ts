import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileChangeCheck } from './file-change-check.js';

describe('createFileChangeCheck', () => {
  let directory: string;
  let path: string;
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'engram-file-check-'));
    path = join(directory, 'embedders.json');
    clock = 0;
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('reports the first look as a change, then only real changes', () => {
    const check = createFileChangeCheck(path, { intervalMs: 0, now });
    expect(check.changed()).toBe(true);
    expect(check.changed()).toBe(false);
    writeFileSync(path, '{"collections":{}}');
    expect(check.changed()).toBe(true);
    expect(check.changed()).toBe(false);
    writeFileSync(path, '{"collections":{"p_a":{}}}');
    expect(check.changed()).toBe(true);
    rmSync(path);
    expect(check.changed()).toBe(true);
  });

  it('looks at most once per interval, and sees a change made meanwhile at the next look', () => {
    const check = createFileChangeCheck(path, { intervalMs: 1000, now });
    expect(check.changed()).toBe(true);
    writeFileSync(path, '{}');
    clock = 999;
    expect(check.changed()).toBe(false);
    // The file is not even looked at within the interval: its absence goes unnoticed too.
    rmSync(path);
    clock = 999.9;
    expect(check.changed()).toBe(false);
    writeFileSync(path, '{"collections":{}}');
    clock = 1000;
    expect(check.changed()).toBe(true);
    clock = 1500;
    expect(check.changed()).toBe(false);
    clock = 5000;
    expect(check.changed()).toBe(false);
  });

  it('asks an interval given as a function at each call', () => {
    let intervalMs = 60_000;
    const check = createFileChangeCheck(path, { intervalMs: () => intervalMs, now });
    expect(check.changed()).toBe(true);
    writeFileSync(path, '{}');
    clock = 1;
    expect(check.changed()).toBe(false);
    intervalMs = 0;
    expect(check.changed()).toBe(true);
    writeFileSync(path, '{"collections":{}}');
    expect(check.changed()).toBe(true);
  });

  it('after forget, the next call looks at once and reports a change', () => {
    const check = createFileChangeCheck(path, { intervalMs: 60_000, now });
    writeFileSync(path, '{}');
    expect(check.changed()).toBe(true);
    clock = 10;
    expect(check.changed()).toBe(false);
    check.forget();
    expect(check.changed()).toBe(true);
    expect(check.changed()).toBe(false);
  });
});
