import type { HistoryEvent, Scope, StoredRecord } from '@engram/core';
import type { PgvectorParameter } from './postgres-jsonb-filter.js';
import { vectorFromBinary } from './postgres-vector-binary.js';

/** The columns of a memory, named as the record's fields. */
const memoryColumns =
  'id, text, hash, user_id AS "userId", agent_id AS "agentId", run_id AS "runId", metadata, created_at AS "createdAt", updated_at AS "updatedAt"';

/** The columns of a history event, named as the event's fields, and its append order. */
export const historyColumns =
  'sequence, id, namespace, memory_id AS "memoryId", event, previous_text AS "previousText", new_text AS "newText", user_id AS "userId", agent_id AS "agentId", run_id AS "runId", actor, detail, created_at AS "createdAt"';

const optionalRecordFields = ['hash', 'userId', 'agentId', 'runId'] as const;
const optionalEventFields = ['userId', 'agentId', 'runId', 'actor', 'detail'] as const;

/** A row whose optional fields the database returns as NULL when absent. */
type Row<T, Optional extends keyof T> = Omit<T, Optional> & Record<Optional, string | null>;

/** A memory row as selected with {@link selectColumns}. */
export type MemoryRow = Row<Omit<StoredRecord, 'vector'>, (typeof optionalRecordFields)[number]> & {
  /** `vector_send(embedding)`: the vector in pgvector's binary format. */
  embedding?: Buffer;
  distance?: number;
  score?: number;
};

/** A history row as selected with {@link historyColumns}. */
export type HistoryRow = Row<HistoryEvent, (typeof optionalEventFields)[number]> & {
  sequence: string;
};

const scopeColumns = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' } as const;

/**
 * The memory columns to select, with the vector when asked for: in pgvector's binary format
 * (`vector_send` of the extension's schema, `vectorSchema` quoted), which neither side has to
 * format or parse as text (1,536 numbers: 6 KB against about 20 KB of text and its float parsing).
 */
export function selectColumns(includeVectors: boolean | undefined, vectorSchema: string): string {
  return includeVectors
    ? `${memoryColumns}, ${vectorSchema}.vector_send(embedding) AS embedding`
    : memoryColumns;
}

/** Removes the optional fields that the database holds as NULL. */
function withoutNulls<T extends object>(row: T, optional: readonly (keyof T)[]): object {
  for (const field of optional) if (row[field] === null) delete row[field];
  return row;
}

/** A stored record from its row; the vector only when asked for. */
export function toRecord(row: MemoryRow, includeVectors: boolean | undefined): StoredRecord {
  const { embedding, distance: _distance, score: _score, ...fields } = row;
  const record = withoutNulls(fields, optionalRecordFields) as StoredRecord;
  if (includeVectors && embedding !== undefined) record.vector = vectorFromBinary(embedding);
  return record;
}

/** A history event from its row. */
export function toEvent(row: HistoryRow): HistoryEvent {
  const { sequence: _sequence, ...fields } = row;
  return withoutNulls(fields, optionalEventFields) as HistoryEvent;
}

/** `<column> = $n` for each id of the scope, its values appended to `parameters`. */
export function scopeConditions(scope: Scope, parameters: PgvectorParameter[]): string[] {
  const conditions: string[] = [];
  for (const [field, column] of Object.entries(scopeColumns)) {
    const value = scope[field as keyof Scope];
    if (value !== undefined) conditions.push(`${column} = $${parameters.push(value)}`);
  }
  return conditions;
}
