import { AdapterCallError, InvalidArgumentError } from '@engram/core';
import { describe, expect, it } from 'vitest';
import {
  type BoltDriver,
  type BoltDriverModule,
  type BoltGraphStoreSettings,
  type BoltRunner,
  createBoltConnection,
  isRetryableBoltError,
  toBoltError,
} from './cypher-bolt.js';

interface Call {
  session: object;
  text: string;
  parameters: Record<string, unknown>;
  via: 'session' | 'read' | 'write';
}

/** A stand-in for the `neo4j-driver` module (no server): records sessions and statements. */
function fakeDriverModule() {
  const calls: Call[] = [];
  const created: unknown[][] = [];
  let closed = 0;
  const runner = (session: object, via: Call['via']): BoltRunner => ({
    async run(text, parameters) {
      calls.push({ session, text, parameters, via });
      return { records: [{ toObject: () => ({ text }) }] };
    },
  });
  const driver: BoltDriver = {
    session(config) {
      return {
        ...runner(config, 'session'),
        executeRead: (work) => work(runner(config, 'read')),
        executeWrite: (work) => work(runner(config, 'write')),
        close: async () => {},
      };
    },
    async close() {
      closed++;
    },
  };
  const neo4j: BoltDriverModule = {
    driver(...parameters) {
      created.push(parameters);
      if (parameters[0] === 'bad://') throw new Error('unsupported scheme');
      return driver;
    },
    auth: { basic: (username, password) => ({ username, password }) },
    int: (value) => ({ integer: value }),
  };
  return { neo4j, driver, calls, created, closed: () => closed };
}

function connect(settings: BoltGraphStoreSettings, module = fakeDriverModule()) {
  const connection = createBoltConnection({
    source: 'test',
    product: 'Test',
    environmentPrefix: 'TEST',
    settings,
    neo4j: module.neo4j,
  });
  return { connection, ...module };
}

const statement = { text: 'RETURN $limit', parameters: { limit: 3, name: 'x', score: 0.5 } };

describe('createBoltConnection', () => {
  it('creates the driver on first use from the settings, then the environment', async () => {
    const { connection, created } = connect({
      username: 'neo',
      env: { TEST_URL: 'bolt://db:7687', TEST_PASSWORD: 'secret' },
      driverConfig: { maxConnectionPoolSize: 2 },
    });
    expect(created).toHaveLength(0);
    await connection.autoCommit(statement);
    await connection.autoCommit(statement);
    expect(created).toEqual([
      [
        'bolt://db:7687',
        { username: 'neo', password: 'secret' },
        { userAgent: 'engram-test', maxConnectionPoolSize: 2 },
      ],
    ]);
  });

  it('runs transactions in sessions of their mode and database, integers as Bolt integers', async () => {
    const { connection, calls } = connect({ database: 'graphs', env: {} });
    const rows = await connection.transaction('read', (run) => run(statement));
    await connection.transaction('write', (run) => run(statement));
    await connection.autoCommit(statement);
    expect(rows).toEqual([{ text: 'RETURN $limit' }]);
    expect(calls.map(({ session, via }) => [session, via])).toEqual([
      [{ defaultAccessMode: 'READ', database: 'graphs' }, 'read'],
      [{ defaultAccessMode: 'WRITE', database: 'graphs' }, 'write'],
      [{ database: 'graphs' }, 'session'],
    ]);
    expect(calls[0]!.parameters).toEqual({ limit: { integer: 3 }, name: 'x', score: 0.5 });
  });

  it('closes only a driver it created', async () => {
    const own = connect({ env: {} });
    await own.connection.autoCommit(statement);
    await own.connection.close();
    expect(own.closed()).toBe(1);
    const module = fakeDriverModule();
    const given = connect({ driver: module.driver, env: {} }, module);
    await given.connection.autoCommit(statement);
    await given.connection.close();
    expect(module.closed()).toBe(0);
    expect(module.created).toHaveLength(0);
  });

  it('reports a driver that cannot be created as an invalid argument', async () => {
    const { connection } = connect({ url: 'bad://', env: {} });
    const error = await connection.autoCommit(statement).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Cannot create a Test driver for bad://: unsupported scheme',
    );
  });
});

describe('Bolt errors', () => {
  it.each([
    [{ code: 'ServiceUnavailable' }, true],
    [{ code: 'SessionExpired' }, true],
    [{ code: 'Neo.TransientError.Transaction.DeadlockDetected' }, true],
    [{ code: 'Memgraph.TransientError.MemgraphError.MemgraphError' }, true],
    [{ code: 'Neo.ClientError.Statement.SyntaxError' }, false],
    [{ code: 'Neo.ClientError.Schema.ConstraintValidationFailed' }, false],
    [{ code: 'Memgraph.ClientError.MemgraphError.MemgraphError' }, false],
    [{ retriable: true }, true],
    [{ cause: { code: 'ECONNREFUSED' } }, true],
    [new Error('plain'), false],
  ])('%o retryable: %s', (error, retryable) => {
    expect(isRetryableBoltError(error)).toBe(retryable);
    const mapped = toBoltError(error, 'list', 'test');
    expect(AdapterCallError.isInstance(mapped)).toBe(true);
    expect((mapped as AdapterCallError).isRetryable).toBe(retryable);
    expect(mapped.prefixedMessage).toMatch(/^\[engram\/test\] list failed/);
    expect(mapped.cause).toBe(error);
  });

  it('shows the status code in the message', () => {
    const error = Object.assign(new Error('bad syntax'), {
      code: 'Neo.ClientError.Statement.SyntaxError',
    });
    expect(toBoltError(error, 'list', 'test').message).toBe(
      'list failed (Neo.ClientError.Statement.SyntaxError): bad syntax',
    );
  });
});
