import {
  decodeCursor,
  encodeCursor,
  eraseSelection,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  normalizeScope,
} from '@engram/core';
import type pg from 'pg';
import type { PgvectorParameter } from './pgvector-filter.js';
import { type HistoryRow, historyColumns, scopeConditions, toEvent } from './pgvector-rows.js';

const source = 'pgvector';

/** Where the history lives and how to reach it. */
export interface PgvectorHistoryTable {
  /** The pool, created on first use. */
  pool: () => pg.Pool;
  /** Schema-qualified, quoted name of the history table. */
  table: string;
  /** Creates the table and its indexes once. */
  ready: () => Promise<void>;
}

/** Throws `InvalidArgumentError` unless every event has an id and a creation time. */
export function checkEvents(events: readonly HistoryEvent[]): void {
  for (const event of events) {
    if (typeof event.id !== 'string' || event.id.length === 0) {
      throw new InvalidArgumentError({ source, message: 'Every history event needs an id.' });
    }
    if (typeof event.createdAt !== 'string') {
      throw new InvalidArgumentError({
        source,
        message: `History event "${event.id}" needs a createdAt time.`,
      });
    }
  }
}

/** Inserts events in the order given, in one statement (inside the caller's transaction, if any). */
export async function appendEvents(
  db: Pick<pg.ClientBase, 'query'>,
  table: string,
  events: readonly HistoryEvent[],
): Promise<void> {
  if (events.length === 0) return;
  const column = (read: (event: HistoryEvent) => string | null | undefined) =>
    events.map((event) => read(event) ?? null);
  await db.query(
    `INSERT INTO ${table}
       (id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at)
     SELECT input.id, input.memory_id, input.event, input.previous_text, input.new_text,
       input.user_id, input.agent_id, input.run_id, input.actor, input.detail, input.created_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
       AS input(id, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at, position)
     ORDER BY input.position`,
    [
      column((event) => event.id),
      column((event) => event.memoryId),
      column((event) => event.event),
      column((event) => event.previousText),
      column((event) => event.newText),
      column((event) => event.userId),
      column((event) => event.agentId),
      column((event) => event.runId),
      column((event) => event.actor),
      column((event) => event.detail),
      column((event) => event.createdAt),
    ],
  );
}

/** The history store's calls on the history table; the store's lifecycle wraps them. */
export function pgvectorHistoryMethods(
  history: PgvectorHistoryTable,
): Pick<HistoryStore, 'append' | 'byMemory' | 'byScope' | 'deleteScope' | 'eraseTexts'> {
  const { pool, table, ready } = history;
  return {
    async append({ events }) {
      checkEvents(events);
      await ready();
      await appendEvents(pool(), table, events);
    },

    async byMemory({ memoryId }) {
      await ready();
      const { rows } = await pool().query<HistoryRow>(
        `SELECT ${historyColumns} FROM ${table} WHERE memory_id = $1 ORDER BY sequence`,
        [memoryId],
      );
      return rows.map(toEvent);
    },

    async byScope({ scope: scopeInput, limit, cursor }) {
      const scope = normalizeScope(scopeInput, { required: true, source });
      const after = Number(decodeCursor(cursor, source) ?? 0);
      if (!Number.isSafeInteger(after) || after < 0) {
        throw new InvalidArgumentError({
          source,
          message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
        });
      }
      await ready();
      const pageSize = Math.max(0, Math.floor(limit));
      const parameters: PgvectorParameter[] = [String(after)];
      const conditions = ['sequence > $1', ...scopeConditions(scope, parameters)];
      const { rows } = await pool().query<HistoryRow>(
        `SELECT ${historyColumns} FROM ${table} WHERE ${conditions.join(' AND ')}
         ORDER BY sequence LIMIT $${parameters.push(pageSize + 1)}`,
        parameters,
      );
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return {
        events: page.map(toEvent),
        ...(rows.length > pageSize && last ? { nextCursor: encodeCursor(last.sequence) } : {}),
      };
    },

    async deleteScope({ scope: scopeInput }) {
      const parameters: PgvectorParameter[] = [];
      const conditions = scopeConditions(normalizeScope(scopeInput, { source }), parameters);
      if (conditions.length === 0) {
        throw new InvalidArgumentError({ source, message: 'deleteScope needs a non-empty scope.' });
      }
      await ready();
      const result = await pool().query(
        `DELETE FROM ${table} WHERE ${conditions.join(' AND ')}`,
        parameters,
      );
      return { deleted: result.rowCount ?? 0 };
    },

    async eraseTexts(options) {
      eraseSelection(options, source);
      const { memoryIds, scope, before } = options;
      const parameters: PgvectorParameter[] = [];
      const conditions = scopeConditions(normalizeScope(scope, { source }), parameters);
      if (memoryIds !== undefined) {
        conditions.push(`memory_id = ANY($${parameters.push([...new Set(memoryIds)])}::text[])`);
      }
      if (before !== undefined) {
        conditions.push(
          `created_at::timestamptz < $${parameters.push(new Date(before).toISOString())}::timestamptz`,
        );
      }
      conditions.push('(previous_text IS NOT NULL OR new_text IS NOT NULL)');
      await ready();
      const result = await pool().query(
        `UPDATE ${table} SET previous_text = NULL, new_text = NULL WHERE ${conditions.join(' AND ')}`,
        parameters,
      );
      return { erased: result.rowCount ?? 0 };
    },
  };
}
