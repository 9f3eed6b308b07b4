import type Database from 'better-sqlite3';
import { isSqliteBusy } from './sqlite-writer.js';

/** Blocks the thread for `ms` milliseconds (only while a file is being opened). */
function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Turns on WAL mode, retrying while another connection is in the way until `busyTimeoutMs`.
 * Two processes that open a new file at the same moment can each hold a shared lock while each
 * asks for the exclusive lock that the switch needs; SQLite then answers SQLITE_BUSY at once
 * instead of calling the busy handler (waiting could deadlock), so the busy timeout alone does not
 * cover it. Any other error is thrown at once.
 */
export function enableWalMode(
  database: Pick<Database.Database, 'pragma'>,
  busyTimeoutMs: number,
  sleep: (ms: number) => void = sleepSync,
): void {
  const deadline = Date.now() + Math.max(0, busyTimeoutMs);
  for (let attempt = 0; ; attempt++) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() >= deadline) throw error;
      sleep(Math.min(50, 1 + attempt * 5));
    }
  }
}
