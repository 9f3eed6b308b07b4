import { describe, expect, it } from 'vitest';
import {
  type GraphRelation,
  layoutGraph,
  type MemoryItem,
  parseFilterText,
  parseRoute,
  routeHash,
  scopeFromParams,
  sortMemories,
  visibleRange,
} from './model.js';

const item = (id: string, createdAt: string, updatedAt: string): MemoryItem => ({
  id,
  memory: id,
  metadata: {},
  createdAt,
  updatedAt,
});

describe('memory browser model', () => {
  it('sorts by creation or change time, either way, ties by id', () => {
    const items = [
      item('b', '2026-01-02', '2026-01-05'),
      item('a', '2026-01-02', '2026-01-03'),
      item('c', '2026-01-01', '2026-01-09'),
    ];
    const ids = (order: Parameters<typeof sortMemories>[1]) =>
      sortMemories(items, order).map((entry) => entry.id);
    expect(ids('created-desc')).toEqual(['a', 'b', 'c']);
    expect(ids('created-asc')).toEqual(['c', 'a', 'b']);
    expect(ids('updated-desc')).toEqual(['c', 'b', 'a']);
    expect(ids('updated-asc')).toEqual(['a', 'b', 'c']);
    expect(items[0]!.id).toBe('b');
  });

  it('renders only the rows in view, with overscan, for any scroll position', () => {
    expect(visibleRange(0, 560, 56, 10_000, 8)).toEqual({ start: 0, end: 19, offset: 0 });
    expect(visibleRange(56 * 5000, 560, 56, 10_000, 8)).toEqual({
      start: 4992,
      end: 5019,
      offset: 4992 * 56,
    });
    expect(visibleRange(56 * 20_000, 560, 56, 10_000, 8)).toEqual({
      start: 10_000,
      end: 10_000,
      offset: 560_000,
    });
    expect(visibleRange(-30, 560, 56, 3, 8)).toEqual({ start: 0, end: 3, offset: 0 });
    expect(visibleRange(0, 560, 56, 0)).toEqual({ start: 0, end: 0, offset: 0 });
  });

  it('reads filters as JSON or key=value pairs, and says what is wrong', () => {
    expect(parseFilterText('  ')).toEqual({ ok: true, filters: undefined });
    expect(parseFilterText('topic=food, score=3, done=true')).toEqual({
      ok: true,
      filters: { topic: 'food', score: 3, done: true },
    });
    expect(parseFilterText('{"score": {"gte": 3}}')).toEqual({
      ok: true,
      filters: { score: { gte: 3 } },
    });
    expect(parseFilterText('{"score": ')).toMatchObject({ ok: false });
    expect(parseFilterText('[1]')).toMatchObject({ ok: false });
    const refused = parseFilterText('topic');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toContain('key=value');
  });

  it('places every entity once, greying those whose relations were all invalidated', () => {
    const relations: GraphRelation[] = [
      rel('alice', 'works_at', 'acme'),
      rel('alice', 'lives_in', 'oslo', '2026-01-01T00:00:00Z'),
      rel('alice', 'lives_in', 'bergen'),
    ];
    const placed = layoutGraph(relations, 600, 400);
    expect([...placed.keys()]).toEqual(['alice', 'acme', 'bergen', 'oslo']);
    expect(placed.get('oslo')!.valid).toBe(false);
    expect(placed.get('alice')!.valid).toBe(true);
    for (const entity of placed.values()) {
      expect(entity.x).toBeGreaterThanOrEqual(0);
      expect(entity.x).toBeLessThanOrEqual(600);
      expect(entity.y).toBeGreaterThanOrEqual(0);
      expect(entity.y).toBeLessThanOrEqual(400);
    }
    expect(layoutGraph([], 600, 400).size).toBe(0);
  });

  it('round-trips routes through the hash', () => {
    const hash = routeHash('memory', { userId: 'al ice', agentId: undefined }, 'id/1');
    const route = parseRoute(hash);
    expect(route.view).toBe('memory');
    expect(route.id).toBe('id/1');
    expect(scopeFromParams(route.params)).toEqual({ userId: 'al ice' });
    expect(parseRoute('').view).toBe('scopes');
    expect(parseRoute('#/nowhere').view).toBe('scopes');
  });
});

function rel(
  source: string,
  relationship: string,
  destination: string,
  invalidatedAt?: string,
): GraphRelation {
  return {
    id: `${source}-${relationship}-${destination}`,
    source,
    sourceType: 'thing',
    relationship,
    destination,
    destinationType: 'thing',
    ...(invalidatedAt ? { invalidatedAt } : {}),
  };
}
