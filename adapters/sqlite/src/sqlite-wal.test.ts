import { describe, expect, it } from 'vitest';
import { enableWalMode } from './sqlite-wal.js';

const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

describe('enableWalMode', () => {
  it('retries the switch while another connection holds the lock it needs', () => {
    const calls: string[] = [];
    const pauses: number[] = [];
    const database = {
      pragma(sql: string) {
        calls.push(sql);
        if (calls.length < 3) throw busy();
        return [{ journal_mode: 'wal' }];
      },
    };
    enableWalMode(database as never, 1_000, (ms) => pauses.push(ms));
    expect(calls).toEqual(['journal_mode = WAL', 'journal_mode = WAL', 'journal_mode = WAL']);
    expect(pauses).toHaveLength(2);
  });

  it('throws any other error at once, and SQLITE_BUSY once the busy timeout has passed', () => {
    let calls = 0;
    const broken = {
      pragma() {
        calls++;
        throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      },
    };
    expect(() => enableWalMode(broken as never, 1_000, () => {})).toThrow(/disk I\/O error/);
    expect(calls).toBe(1);
    const locked = {
      pragma() {
        throw busy();
      },
    };
    expect(() => enableWalMode(locked as never, 0, () => {})).toThrow(/database is locked/);
  });
});
