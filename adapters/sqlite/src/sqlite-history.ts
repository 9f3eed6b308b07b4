import type { HistoryEvent } from '@engram/core';
import { valuesList } from './sqlite-rows.js';

/** A row of `engram_history`; the nullable columns hold what an event may leave out. */
export type HistoryRow = Record<'id' | 'namespace' | 'created_at', string> &
  Record<
    | 'memory_id'
    | 'previous_text'
    | 'new_text'
    | 'user_id'
    | 'agent_id'
    | 'run_id'
    | 'actor'
    | 'detail',
    string | null
  > & { sequence: number; event: HistoryEvent['event'] };

/** Event fields left out of an event when their column is null. */
const optionalFields = [
  ['user_id', 'userId'],
  ['agent_id', 'agentId'],
  ['run_id', 'runId'],
  ['actor', 'actor'],
  ['detail', 'detail'],
] as const;

/** `INSERT` of `rows` events; the parameters of each come from {@link historyParameters}. */
export function insertHistorySql(rows = 1): string {
  return `INSERT INTO engram_history (id, namespace, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at)
VALUES ${valuesList(rows, 12)}`;
}

/** The parameters of {@link insertHistorySql} for one event. */
export function historyParameters(event: HistoryEvent) {
  return [
    event.id,
    event.namespace,
    event.memoryId ?? null,
    event.event,
    event.previousText ?? null,
    event.newText ?? null,
    ...optionalFields.map(([, field]) => event[field] ?? null),
    event.createdAt,
  ];
}

/** Reads an event back from its row. */
export function toEvent(row: HistoryRow): HistoryEvent {
  const event: HistoryEvent = {
    id: row.id,
    namespace: row.namespace,
    memoryId: row.memory_id,
    event: row.event,
    previousText: row.previous_text,
    newText: row.new_text,
    createdAt: row.created_at,
  };
  for (const [column, field] of optionalFields) {
    const value = row[column];
    if (value !== null) event[field] = value;
  }
  return event;
}
