import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { JobInfo } from './job-queue.js';
import type { JobStatusStore } from './queue-transport.js';

/** How long a job's state is kept after its last change. */
const keepMs = 7 * 24 * 60 * 60 * 1000;

interface StoredStatus {
  project: string;
  info: JobInfo;
}

function merged(
  previous: StoredStatus | undefined,
  id: string,
  project: string,
  info: Partial<JobInfo>,
) {
  const base: JobInfo = previous?.info ?? {
    id,
    status: 'queued',
    attempts: 0,
    createdAt: new Date().toISOString(),
  };
  const next: JobInfo = { ...base, ...info, id };
  if (info.status === 'completed') delete next.error;
  return { project: previous?.project ?? project, info: next };
}

/**
 * Job states in a SQLite file (`<dataDir>/jobs.db` by default): shared by the server and the
 * workers of one machine (WAL mode lets them write in turn). Servers and workers on several
 * machines share Redis instead ({@link createRedisJobStatusStore}).
 */
export function createSqliteJobStatusStore(path: string): JobStatusStore {
  const database = new Database(path);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.exec(
    'CREATE TABLE IF NOT EXISTS engram_jobs (id TEXT PRIMARY KEY, project TEXT NOT NULL, info TEXT NOT NULL, updated_at INTEGER NOT NULL)',
  );
  const select = database.prepare<[string], { project: string; info: string }>(
    'SELECT project, info FROM engram_jobs WHERE id = ?',
  );
  const upsert = database.prepare(
    'INSERT INTO engram_jobs (id, project, info, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at',
  );
  const prune = database.prepare('DELETE FROM engram_jobs WHERE updated_at < ?');
  const read = (id: string): StoredStatus | undefined => {
    const row = select.get(id);
    return row ? { project: row.project, info: JSON.parse(row.info) as JobInfo } : undefined;
  };
  const write = database.transaction((id: string, project: string, info: Partial<JobInfo>) => {
    const next = merged(read(id), id, project, info);
    upsert.run(id, next.project, JSON.stringify(next.info), Date.now());
  });
  let writes = 0;
  return {
    async record(id, project, info) {
      write.immediate(id, project, info);
      if (++writes % 1000 === 0) prune.run(Date.now() - keepMs);
    },
    async get(id, project) {
      const found = read(id);
      return found && found.project === project ? found.info : undefined;
    },
    async close() {
      if (database.open) database.close();
    },
  };
}

/**
 * Job states in Redis (`REDIS_URL`), for servers and workers on several machines: one hash per
 * job, one field per part of its state, so concurrent writes merge field by field.
 */
export function createRedisJobStatusStore(url: string, prefix = 'engram:job:'): JobStatusStore {
  const connection = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  connection.on('error', () => {});
  return {
    async record(id, project, info) {
      const key = `${prefix}${id}`;
      const fields = Object.entries(info).flatMap(([field, value]) =>
        field === 'id' || value === undefined ? [] : [field, JSON.stringify(value)],
      );
      const transaction = connection
        .multi()
        .hsetnx(key, 'project', JSON.stringify(project))
        .hsetnx(key, 'createdAt', JSON.stringify(new Date().toISOString()))
        .hsetnx(key, 'attempts', '0')
        .hsetnx(key, 'status', JSON.stringify('queued'));
      if (fields.length > 0) transaction.hset(key, ...fields);
      if (info.status === 'completed') transaction.hdel(key, 'error');
      await transaction.pexpire(key, keepMs).exec();
    },
    async get(id, project) {
      const raw = await connection.hgetall(`${prefix}${id}`);
      if (!raw.project || JSON.parse(raw.project) !== project) return undefined;
      const info: Record<string, unknown> = { id };
      for (const [field, value] of Object.entries(raw)) {
        if (field !== 'project') info[field] = JSON.parse(value);
      }
      return info as unknown as JobInfo;
    },
    async close() {
      if (connection.status === 'wait') connection.disconnect();
      else await connection.quit().catch(() => connection.disconnect());
    },
  };
}
