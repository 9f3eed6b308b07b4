import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GraphEntity, GraphStore } from '@engram/core';
import { type BackendDefinition, type BackendRowStatus, runBackendRow } from './backend-servers.js';
import type { ClusteredCorpus } from './clustered.js';
import type { BenchContext } from './context.js';
import { loadLine, machineLine, markdownTable, runCell } from './report.js';
import { formatCount, formatMs, formatRate, type Summary, summarize } from './stats.js';

const graphBackends: readonly BackendDefinition[] = [
  {
    name: 'kuzu',
    adapter: 'kuzu',
    factory: 'createKuzuGraphStore',
    settings: 'embedded; exact cosine (`array_cosine_similarity`) over the scope, in the engine',
    options: ({ directory }) => ({ path: join(directory, 'graph') }),
  },
  {
    name: 'age',
    adapter: 'age',
    factory: 'createAgeGraphStore',
    service: 'age',
    settings:
      'PostgreSQL + Apache AGE; no vector index: exact cosine over the scope, in the client',
    options: ({ url }) => ({ connectionString: url, graphName: 'engram_bench' }),
  },
  {
    name: 'neo4j',
    adapter: 'neo4j',
    factory: 'createNeo4jGraphStore',
    service: 'neo4j',
    settings:
      'exact `vector.similarity.cosine` over the scope (default; `approximateSearchAbove` unset)',
    options: ({ url }) => ({ url }),
  },
];

/** One row of the graph table. */
export interface GraphBackendResult extends BackendRowStatus {
  backend: string;
  /** Entities upserted. */
  size: number;
  dimensions: number;
  settings: string;
  /** Entities per user. */
  entitiesPerScope?: number;
  upsertPerSecond?: number;
  similar?: Summary;
  ranAt: string;
  load: string;
}

const namespace = 'bench';
const batchSize = 100;

async function measureGraph(
  context: BenchContext,
  backend: BackendDefinition,
  input: { corpus: ClusteredCorpus; entities: number; users: number; queries: number },
  row: GraphBackendResult,
) {
  const users = new Set<string>();
  await runBackendRow<GraphStore>(
    context,
    backend,
    row,
    async (store, stage) => {
      stage('creating the schema');
      await store.ensureSchema({ dimensions: input.corpus.dimensions });
      stage('upserting entities');
      const now = new Date().toISOString();
      let upsertMs = 0;
      for (let offset = 0; offset < input.entities; offset += batchSize) {
        const entities: GraphEntity[] = [];
        for (let index = offset; index < Math.min(input.entities, offset + batchSize); index++) {
          const user = `bench-user-${index % input.users}`;
          users.add(user);
          entities.push({
            id: `bench-entity-${index}`,
            name: `entity ${index}`,
            type: 'thing',
            embedding: Array.from(input.corpus.memory(index).vector),
            namespace,
            userId: user,
            mentions: 1,
            createdAt: now,
            updatedAt: now,
          });
        }
        const start = performance.now();
        await store.upsertEntities({ entities });
        upsertMs += performance.now() - start;
      }
      row.upsertPerSecond = input.entities / (upsertMs / 1000);
      stage('similar-entity lookups');
      const samples: number[] = [];
      for (let index = -Math.min(10, input.queries); index < input.queries; index++) {
        const query = input.corpus.query(Math.abs(index) + (index < 0 ? 1_000 : 0));
        const start = performance.now();
        await store.findSimilarEntities({
          namespace,
          scope: { userId: `bench-user-${Math.abs(index) % input.users}` },
          embedding: Array.from(query.vector),
          topK: 5,
        });
        if (index >= 0) samples.push(performance.now() - start);
      }
      row.similar = summarize(samples);
    },
    async (store) => {
      for (const userId of users) await store.deleteScope({ namespace, scope: { userId } });
    },
  );
}

/** Names of the graph backends, in table order. */
export const graphBackendNames = graphBackends.map((backend) => backend.name);

/** The graph stores' table: entity upserts and similar-entity lookups, as graph memory makes. */
export async function runGraphBackends(
  context: BenchContext,
  input: { corpus: ClusteredCorpus; size: number; names: readonly string[] },
): Promise<GraphBackendResult[]> {
  const entities = Math.max(100, Math.min(10_000, Math.round(input.size / 10)));
  const entitiesPerScope = 20;
  const users = Math.max(1, Math.round(entities / entitiesPerScope));
  const queries = context.queries ?? (context.smoke ? 20 : 200);
  const results: GraphBackendResult[] = [];
  for (const backend of graphBackends.filter((entry) => input.names.includes(entry.name))) {
    const load = loadLine().split(' / ')[0];
    context.log(`  ${backend.name}: load average ${loadLine()} before`);
    const row: GraphBackendResult = {
      backend: backend.name,
      size: entities,
      dimensions: input.corpus.dimensions,
      settings: backend.settings,
      entitiesPerScope,
      ranAt: '',
      load: '',
    };
    await measureGraph(context, backend, { corpus: input.corpus, entities, users, queries }, row);
    row.ranAt = new Date().toISOString().slice(0, 16).replace('T', ' ');
    row.machine = machineLine();
    row.load = `${load} -> ${loadLine().split(' / ')[0]}`;
    context.log(`  ${backend.name}: load average ${loadLine()} after`);
    context.log(graphTable([row]).split('\n').at(-1)!);
    results.push(row);
  }
  return results;
}

/** The graph rows as a Markdown table. */
export function graphTable(rows: readonly GraphBackendResult[]): string {
  const order = graphBackends.map((backend) => backend.name);
  return markdownTable(
    [
      'backend',
      'entities (per user)',
      'entities upserted/s (batches of 100)',
      'similar-entity lookup p50 / p95 ms (top 5, one user)',
      'run (UTC), load before -> after, processor',
      'settings',
    ],
    [...rows]
      .sort((left, right) => order.indexOf(left.backend) - order.indexOf(right.backend))
      .map((row) =>
        row.unavailable
          ? [
              row.backend,
              formatCount(row.size),
              `not measured: ${row.unavailable}`,
              '',
              runCell(row),
              row.settings,
            ]
          : [
              `${row.backend} (${row.origin})`,
              `${formatCount(row.size)} (${row.entitiesPerScope})`,
              formatRate(row.upsertPerSecond ?? Number.NaN),
              row.similar ? `${formatMs(row.similar.median)} / ${formatMs(row.similar.p95)}` : '',
              runCell(row),
              row.settings,
            ],
      ),
  );
}
