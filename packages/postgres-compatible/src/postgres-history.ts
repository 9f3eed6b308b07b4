import {
  checkHistoryEventNamespaces,
  checkHistoryNamespace,
  decodeCursor,
  encodeCursor,
  eraseSelection,
  type HistoryEvent,
  type HistoryStore,
  InvalidArgumentError,
  normalizeScope,
} from '@engram/core';
import type pg from 'pg';
import { qualifiedName } from './postgres-identifiers.js';
import type { PgvectorParameter } from './postgres-jsonb-filter.js';
import {
  type HistoryRow,
  historyColumns,
  scopeConditions,
  toEvent,
} from './postgres-vector-rows.js';
import {
  historyNamespaceColumnSql,
  historyTableSql,
  sharedTableNames,
} from './postgres-vector-schema.js';

const defaultSource = 'pgvector';

/** Where the history lives and how to reach it. */
export interface PgvectorHistoryTable {
  /** The pool, created on first use. */
  pool: () => pg.Pool;
  /** Schema-qualified, quoted name of the history table. */
  table: string;
  /** Creates the table and its indexes once. */
  ready: () => Promise<void>;
  /** The adapter, for errors. Default `pgvector`. */
  source?: string;
}

/**
 * Creates the history table and its indexes, or brings a table created before namespaces to
 * the current shape (inside the caller's transaction, which holds the table's DDL lock).
 */
export async function prepareHistoryTable(
  db: Pick<pg.ClientBase, 'query'>,
  names: { schema: string; prefix: string },
): Promise<void> {
  const [createTable, ...indexes] = historyTableSql(names.schema, names.prefix);
  await db.query(createTable!);
  const table = qualifiedName(names.schema, sharedTableNames(names.prefix).history);
  const column = await db.query(
    "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'namespace' AND NOT attisdropped",
    [table],
  );
  if (!column.rowCount) {
    await db.query(historyNamespaceColumnSql(names.schema, names.prefix));
    await backfillNamespaces(db, table, names);
  }
  for (const sql of indexes) await db.query(sql);
}

/**
 * Gives the events of an older table the collection of their memory when exactly one collection
 * holds it; when the database has only one collection, every event gets it. The rest keep no
 * namespace, so no read or delete selects them. `''` marks a memory found in two collections
 * while the collections are walked.
 */
async function backfillNamespaces(
  db: Pick<pg.ClientBase, 'query'>,
  table: string,
  names: { schema: string; prefix: string },
): Promise<void> {
  const registry = qualifiedName(names.schema, sharedTableNames(names.prefix).collections);
  const present = await db.query('SELECT 1 WHERE to_regclass($1) IS NOT NULL', [registry]);
  if (!present.rowCount) return;
  const { rows } = await db.query<{ name: string; table_name: string }>(
    `SELECT name, table_name FROM ${registry} ORDER BY name`,
  );
  for (const { name, table_name } of rows) {
    await db.query(
      `UPDATE ${table} SET namespace = CASE WHEN namespace IS NULL THEN $1 ELSE '' END
       WHERE memory_id IN (SELECT id FROM ${qualifiedName(names.schema, table_name)})`,
      [name],
    );
  }
  if (rows.length === 1) {
    await db.query(`UPDATE ${table} SET namespace = $1 WHERE namespace IS NULL`, [rows[0]!.name]);
  }
  await db.query(`UPDATE ${table} SET namespace = NULL WHERE namespace = ''`);
}

/**
 * Throws `InvalidArgumentError` unless every event has an id, a namespace and a creation time.
 */
export function checkEvents(events: readonly HistoryEvent[], source = defaultSource): void {
  checkHistoryEventNamespaces(events, source);
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
       (id, namespace, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at)
     SELECT input.id, input.namespace, input.memory_id, input.event, input.previous_text,
       input.new_text, input.user_id, input.agent_id, input.run_id, input.actor, input.detail,
       input.created_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY
       AS input(id, namespace, memory_id, event, previous_text, new_text, user_id, agent_id, run_id, actor, detail, created_at, position)
     ORDER BY input.position`,
    [
      column((event) => event.id),
      column((event) => event.namespace),
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
): Pick<
  HistoryStore,
  'append' | 'byMemory' | 'byScope' | 'deleteScope' | 'eraseTexts' | 'listTexts'
> {
  const { pool, table, ready, source = defaultSource } = history;
  /** One page of a namespace's events, oldest first, under the conditions `where` adds. */
  async function page(
    namespace: string,
    cursor: string | undefined,
    limit: number,
    where: (parameters: PgvectorParameter[]) => string[],
  ): Promise<{ events: HistoryEvent[]; nextCursor?: string }> {
    const after = Number(decodeCursor(cursor, source) ?? 0);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new InvalidArgumentError({
        source,
        message: 'cursor is not valid; pass the nextCursor of a previous page unchanged.',
      });
    }
    await ready();
    const pageSize = Math.max(0, Math.floor(limit));
    const parameters: PgvectorParameter[] = [namespace, String(after)];
    const conditions = ['namespace = $1', 'sequence > $2', ...where(parameters)];
    const { rows } = await pool().query<HistoryRow>(
      `SELECT ${historyColumns} FROM ${table} WHERE ${conditions.join(' AND ')}
       ORDER BY sequence LIMIT $${parameters.push(pageSize + 1)}`,
      parameters,
    );
    const events = rows.slice(0, pageSize);
    const last = events.at(-1);
    return {
      events: events.map(toEvent),
      ...(rows.length > pageSize && last ? { nextCursor: encodeCursor(last.sequence) } : {}),
    };
  }
  return {
    async append({ events }) {
      checkEvents(events, source);
      await ready();
      await appendEvents(pool(), table, events);
    },

    async byMemory({ namespace, memoryId }) {
      checkHistoryNamespace(namespace, source);
      await ready();
      const { rows } = await pool().query<HistoryRow>(
        `SELECT ${historyColumns} FROM ${table} WHERE namespace = $1 AND memory_id = $2 ORDER BY sequence`,
        [namespace, memoryId],
      );
      return rows.map(toEvent);
    },

    async byScope({ namespace, scope: scopeInput, limit, cursor }) {
      checkHistoryNamespace(namespace, source);
      const scope = normalizeScope(scopeInput, { required: true, source });
      return page(namespace, cursor, limit, (parameters) => scopeConditions(scope, parameters));
    },

    async deleteScope({ namespace, scope: scopeInput }) {
      const parameters: PgvectorParameter[] = [checkHistoryNamespace(namespace, source)];
      const conditions = scopeConditions(normalizeScope(scopeInput, { source }), parameters);
      if (conditions.length === 0) {
        throw new InvalidArgumentError({ source, message: 'deleteScope needs a non-empty scope.' });
      }
      await ready();
      const result = await pool().query(
        `DELETE FROM ${table} WHERE namespace = $1 AND ${conditions.join(' AND ')}`,
        parameters,
      );
      return { deleted: result.rowCount ?? 0 };
    },

    async listTexts({ namespace, before, limit, cursor }) {
      checkHistoryNamespace(namespace, source);
      return page(namespace, cursor, limit, (parameters) => [
        `created_at::timestamptz < $${parameters.push(new Date(before).toISOString())}::timestamptz`,
        '(previous_text IS NOT NULL OR new_text IS NOT NULL)',
      ]);
    },

    async eraseTexts(options) {
      eraseSelection(options, source);
      const { namespace, memoryIds, scope, before } = options;
      const parameters: PgvectorParameter[] = [namespace];
      const conditions = [
        'namespace = $1',
        ...scopeConditions(normalizeScope(scope, { source }), parameters),
      ];
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
