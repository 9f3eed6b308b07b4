// Scoped vector search latency of the SQLite store, optionally beside sqlite-vec's vec0 table.
// Build first (`pnpm --filter @engram/sqlite build`), then:
//   node bench/vector-search.mjs [records=100000] [dimensions=384] [perUser=1000]
// Set SQLITE_VEC_MODULE to the folder of an installed `sqlite-vec` package to compare with a
// vec0 table partitioned by user.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../dist/index.js';

const [total = 100_000, dimensions = 384, perUser = 1000] = process.argv.slice(2).map(Number);
const users = Math.ceil(total / perUser);
const queries = 200;
const directory = mkdtempSync(join(tmpdir(), 'engram-sqlite-bench-'));

let seed = 42;
function random() {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648 - 0.5;
}
const vectorOf = () => Array.from({ length: dimensions }, random);

function percentile(samples, fraction) {
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];
}

async function measure(label, run) {
  const samples = [];
  for (let index = 0; index < queries; index++) {
    const start = performance.now();
    await run(index);
    samples.push(performance.now() - start);
  }
  return {
    method: label,
    'p50 ms': percentile(samples, 0.5).toFixed(2),
    'p95 ms': percentile(samples, 0.95).toFixed(2),
  };
}

const path = join(directory, 'bench.db');
const store = createSqliteStore({ path });
await store.ensureCollection({ collection: 'memories', dimensions });
let start = performance.now();
const now = new Date().toISOString();
for (let offset = 0; offset < total; offset += 1000) {
  const records = [];
  for (let index = offset; index < Math.min(total, offset + 1000); index++) {
    records.push({
      id: `m${index}`,
      vector: vectorOf(),
      text: `memory ${index}`,
      userId: `user-${index % users}`,
      metadata: { index },
      createdAt: now,
      updatedAt: now,
    });
  }
  await store.upsert({ collection: 'memories', records });
}
const loadSeconds = (performance.now() - start) / 1000;
const queryVectors = Array.from({ length: queries }, vectorOf);
const userOf = (index) => `user-${(index * 7) % users}`;

const rows = [];
const uncached = createSqliteStore({ path, vectorCacheSize: 0 });
rows.push(
  await measure('SQL scan of the scope (no cache)', (index) =>
    uncached.query({
      collection: 'memories',
      vector: queryVectors[index],
      topK: 10,
      scope: { userId: userOf(index) },
    }),
  ),
);
// The cache pays off for the users who are active right now: ten of them here.
const activeUserOf = (index) => `user-${index % 10}`;
rows.push(
  await measure('cached scope vectors, 10 active users', (index) =>
    store.query({
      collection: 'memories',
      vector: queryVectors[index],
      topK: 10,
      scope: { userId: activeUserOf(index) },
    }),
  ),
);
rows.push(
  await measure('SQL scan with a metadata filter', (index) =>
    store.query({
      collection: 'memories',
      vector: queryVectors[index],
      topK: 10,
      scope: { userId: userOf(index) },
      filter: { op: 'gte', field: 'index', value: 0 },
    }),
  ),
);
const unscopedQueries = 10;
start = performance.now();
for (let index = 0; index < unscopedQueries; index++) {
  await uncached.query({ collection: 'memories', vector: queryVectors[index], topK: 10 });
}
rows.push({
  method: `unscoped scan of all ${total}`,
  'p50 ms': ((performance.now() - start) / unscopedQueries).toFixed(2),
  'p95 ms': '',
});

if (process.env.SQLITE_VEC_MODULE) {
  const sqliteVec = createRequire(join(process.env.SQLITE_VEC_MODULE, 'package.json'))(
    process.env.SQLITE_VEC_MODULE,
  );
  const database = new Database(join(directory, 'vec.db'));
  database.pragma('journal_mode = WAL');
  sqliteVec.load(database);
  database.exec(
    `CREATE VIRTUAL TABLE vectors USING vec0(user_id TEXT PARTITION KEY, embedding float[${dimensions}] distance_metric=cosine)`,
  );
  seed = 42;
  const insert = database.prepare(
    'INSERT INTO vectors (rowid, user_id, embedding) VALUES (?, ?, ?)',
  );
  start = performance.now();
  const load = database.transaction((from, to) => {
    for (let index = from; index < to; index++) {
      insert.run(BigInt(index), `user-${index % users}`, new Float32Array(vectorOf()));
    }
  });
  for (let offset = 0; offset < total; offset += 1000) load(offset, Math.min(total, offset + 1000));
  const vecLoadSeconds = (performance.now() - start) / 1000;
  const search = database.prepare(
    'SELECT rowid, distance FROM vectors WHERE embedding MATCH ? AND k = 10 AND user_id = ?',
  );
  rows.push({
    ...(await measure('sqlite-vec vec0, user partition key', (index) =>
      search.all(new Float32Array(queryVectors[index]), userOf(index)),
    )),
    note: `load ${vecLoadSeconds.toFixed(1)} s`,
  });
  database.close();
}

console.log(
  `${total} vectors x ${dimensions} dimensions, ${perUser} per user, ${queries} queries per row; store load ${loadSeconds.toFixed(1)} s`,
);
console.table(rows);
await store.close();
await uncached.close();
rmSync(directory, { recursive: true, force: true });
