import { describe, expect, it } from 'vitest';
import { requireScope, translateMem0Filters } from './mem0-platform-filters.js';

describe('translateMem0Filters', () => {
  it.each([
    ['one user', { user_id: 'alice' }, { scope: { userId: 'alice' } }],
    [
      'entity ids in a top-level AND, run wildcard',
      { AND: [{ user_id: 'alice' }, { agent_id: { eq: 'travel' } }, { run_id: '*' }] },
      { scope: { userId: 'alice', agentId: 'travel' } },
    ],
    [
      'metadata beside the scope',
      { AND: [{ user_id: 'alice' }, { metadata: { topic: 'food' } }] },
      { scope: { userId: 'alice' }, filter: { op: 'eq', field: 'topic', value: 'food' } },
    ],
    [
      'app_id is a metadata condition',
      { user_id: 'alice', app_id: { in: ['web', 'ios'] } },
      { scope: { userId: 'alice' }, filter: { op: 'in', field: 'app_id', values: ['web', 'ios'] } },
    ],
    [
      'OR and NOT of metadata, operators, bare keys',
      {
        user_id: 'alice',
        OR: [{ metadata: { topic: 'food' } }, { score: { gte: 3, lt: 9 } }],
        NOT: { metadata: { tag: { contains: 'spam' } } },
      },
      {
        scope: { userId: 'alice' },
        filter: {
          op: 'and',
          filters: [
            {
              op: 'or',
              filters: [
                { op: 'eq', field: 'topic', value: 'food' },
                {
                  op: 'and',
                  filters: [
                    { op: 'gte', field: 'score', value: 3 },
                    { op: 'lt', field: 'score', value: 9 },
                  ],
                },
              ],
            },
            { op: 'not', filter: { op: 'contains', field: 'tag', value: 'spam' } },
          ],
        },
      },
    ],
    [
      'a single-value "in" on an entity and the wildcard on app_id',
      { user_id: { in: ['alice'] }, app_id: '*' },
      { scope: { userId: 'alice' }, filter: { op: 'exists', field: 'app_id' } },
    ],
  ])('%s', (_name, filters, expected) => {
    expect(translateMem0Filters(filters)).toEqual(expected);
  });

  it('merges entity ids given beside the filters', () => {
    expect(
      translateMem0Filters({ agent_id: 'travel' }, { user_id: 'alice', app_id: 'web' }),
    ).toEqual({
      scope: { userId: 'alice', agentId: 'travel' },
      filter: { op: 'eq', field: 'app_id', value: 'web' },
    });
  });

  it.each([
    ['user_id inside OR', { OR: [{ user_id: 'a' }, { user_id: 'b' }] }, 'not inside OR or NOT'],
    ['user_id with several ids', { user_id: { in: ['a', 'b'] } }, 'one call per user_id'],
    ['user_id with ne', { user_id: { ne: 'a' } }, '"ne" is not supported on user_id'],
    ['two different users', { user_id: 'a', AND: [{ user_id: 'b' }] }, 'given twice'],
    ['icontains', { user_id: 'a', metadata: { topic: { icontains: 'f' } } }, '"icontains"'],
    ['unknown operator', { user_id: 'a', score: { between: [1, 2] } }, '"between"'],
    ['created_at', { user_id: 'a', created_at: { gte: '2024-01-01' } }, '"created_at"'],
    ['categories in OR', { OR: [{ categories: { in: ['x'] } }] }, '"categories"'],
    ['empty AND', { AND: [] }, 'non-empty array'],
    ['a bad metadata key', { user_id: 'a', 'bad key!': 1 }, 'filters'],
  ])('refuses %s with a 400 naming it', (_name, filters, message) => {
    let caught: unknown;
    try {
      translateMem0Filters(filters as Record<string, unknown>);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ status: 400, code: 'invalid_argument' });
    expect((caught as Error).message).toContain(message);
  });

  it('requires a scope where Engram reads one scope at a time', () => {
    expect(() => requireScope(translateMem0Filters({ user_id: '*' }))).toThrow(
      /at least one of user_id, agent_id or run_id/,
    );
    expect(requireScope(translateMem0Filters({ run_id: 'r1' })).scope).toEqual({ runId: 'r1' });
  });
});
