import { AdapterCallError, NotFoundError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  isRetryablePostgresError,
  isUndefinedTable,
  postgresErrorMapper,
  sqlState,
  toPostgresError,
} from './postgres-errors.js';

function withCode(code: string, message = 'failed') {
  return Object.assign(new Error(message), { code });
}

describe('isRetryablePostgresError', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED'), true],
    ['connection reset', withCode('ECONNRESET'), true],
    ['serialization failure', withCode('40001'), true],
    ['deadlock', withCode('40P01'), true],
    ['too many connections', withCode('53300'), true],
    ['admin shutdown', withCode('57P01'), true],
    ['starting up', withCode('57P03'), true],
    ['connection failure class', withCode('08006'), true],
    ['statement timeout', withCode('57014'), true],
    ['pool checkout timeout', new Error('timeout exceeded when trying to connect'), true],
    ['dropped connection', new Error('Connection terminated unexpectedly'), true],
    ['syntax error', withCode('42601'), false],
    ['unique violation', withCode('23505'), false],
    ['bad jsonb', withCode('22P05'), false],
    ['undefined table', withCode('42P01'), false],
    ['missing graph', withCode('3F000', 'graph "engram" does not exist'), false],
    ['not an error', 'oops', false],
  ])('%s', (_, error, retryable) => {
    expect(isRetryablePostgresError(error)).toBe(retryable);
  });
});

describe('toPostgresError', () => {
  it('wraps driver errors with the action, the code, the source and the cause', () => {
    const cause = withCode('53300', 'sorry, too many clients already');
    const error = toPostgresError(cause, 'pgvector', 'query');
    expect(AdapterCallError.isInstance(error)).toBe(true);
    expect(error.prefixedMessage).toBe(
      '[engram/pgvector] query failed (53300): sorry, too many clients already',
    );
    expect((error as AdapterCallError).isRetryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.source).toBe('pgvector');
    const plain = postgresErrorMapper('age')(new Error('Connection terminated'), 'list');
    expect(plain.prefixedMessage).toBe('[engram/age] list failed: Connection terminated');
    expect((plain as AdapterCallError).isRetryable).toBe(true);
  });

  it('passes Engram errors through', () => {
    const error = new NotFoundError({ source: 'pgvector', message: 'missing' });
    expect(toPostgresError(error, 'pgvector', 'get')).toBe(error);
  });

  it('reads SQLSTATEs and recognizes an undefined table', () => {
    expect(sqlState(withCode('42P01'))).toBe('42P01');
    expect(sqlState(withCode('ECONNRESET'))).toBeUndefined();
    expect(isUndefinedTable(withCode('42P01'))).toBe(true);
    expect(isUndefinedTable(withCode('42P07'))).toBe(false);
  });
});
