// mem0's official platform client, unchanged, talking to `engram serve`: only `host` and the
// key differ from a mem0 platform setup. Runs offline: the server starts in this process with
// its embedded store, the offline hash embedder and no LLM (adds are stored as given).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  apiKeyStorePath,
  createLogger,
  loadServerConfig,
  openApiKeyStore,
  startServer,
} from '@engram/server';

/** Runs the example, printing through `log`. */
export async function runExample(log: (line: string) => void = console.log): Promise<void> {
  // mem0's client reports usage to mem0's own servers unless told not to when it is first
  // imported; this example runs offline.
  process.env.MEM0_TELEMETRY ??= 'false';
  const { MemoryClient } = await import('mem0ai');
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-mem0-client-'));
  const keys = openApiKeyStore(apiKeyStorePath(dataDir));
  const { key } = keys.create({ project: 'demo', name: 'mem0 client example' });
  keys.close();
  const config = loadServerConfig(
    { dataDir, host: '127.0.0.1', port: 0, workers: 1 },
    { ENGRAM_EMBEDDER: 'hash', ENGRAM_LLM: 'none', ENGRAM_LOG_LEVEL: 'error' },
  );
  const server = await startServer(config, {
    handleSignals: false,
    logger: createLogger('error'),
  });
  try {
    // The only lines that differ from a mem0 platform application.
    const client = new MemoryClient({ apiKey: key, host: `http://127.0.0.1:${server.port}` });

    await client.ping();
    for (const fact of ['I am vegetarian', 'I live in Lisbon', 'I play the cello']) {
      await client.add([{ role: 'user', content: fact }], { userId: 'alice', infer: false });
    }
    const found = await client.search('is she vegetarian', {
      filters: { user_id: 'alice' },
      topK: 1,
    });
    log(`search: ${found.results[0]?.memory}`);
    const all = await client.getAll({ filters: { user_id: 'alice' } });
    log(`memories of alice: ${all.count}`);
    await client.deleteAll({ userId: 'alice' });
    const after = await client.getAll({ filters: { user_id: 'alice' } });
    log(`after delete all: ${after.count}`);
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runExample();
}
