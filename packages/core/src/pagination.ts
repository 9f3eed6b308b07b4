import { InvalidArgumentError } from './errors.js';

/** Encodes "the last id of this page" as an opaque cursor. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; throws `InvalidArgumentError` for anything else. */
export function decodeCursor(cursor: string | undefined, source = 'core'): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      after?: unknown;
    };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError({
    source,
    message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
  });
}
