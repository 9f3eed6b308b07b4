import { statSync } from 'node:fs';

/** Whether a file changed, looked at no more often than an interval allows. */
export interface FileChangeCheck {
  /**
   * True when the file's modification time, size or inode differ from the last look (the first
   * look, and a file appearing or disappearing, count as a change). Within the interval after a
   * look it answers false without looking.
   */
  changed(): boolean;
  /** Makes the next call look, and report a change whatever it finds. */
  forget(): void;
}

/** Settings of `createFileChangeCheck`. */
export interface FileChangeCheckOptions {
  /**
   * Looks at the file at most once per this many milliseconds; 0 looks on every call. A function
   * is asked at each call, so the interval can follow what the file said last.
   */
  intervalMs: number | (() => number);
  /** Clock in milliseconds (default `performance.now`, which never goes back). */
  now?: () => number;
}

/** A `FileChangeCheck` of `path`, one `stat` per interval at most. */
export function createFileChangeCheck(
  path: string,
  options: FileChangeCheckOptions,
): FileChangeCheck {
  const now = options.now ?? (() => performance.now());
  const { intervalMs } = options;
  const interval = typeof intervalMs === 'number' ? () => intervalMs : intervalMs;
  let seen: string | undefined;
  let lookedAt = Number.NEGATIVE_INFINITY;
  return {
    changed() {
      const time = now();
      if (seen !== undefined && time - lookedAt < interval()) return false;
      lookedAt = time;
      let signature = 'none';
      try {
        const file = statSync(path);
        signature = `${file.mtimeMs}:${file.size}:${file.ino}`;
      } catch {
        // No file is a state of its own.
      }
      if (signature === seen) return false;
      seen = signature;
      return true;
    },
    forget() {
      seen = undefined;
    },
  };
}
