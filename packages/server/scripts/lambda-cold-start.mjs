#!/usr/bin/env node
// Cold start of the Lambda handler (@engram/server/lambda): each run is a fresh Node.js process,
// as a new Lambda instance is, that imports the handler and answers an API Gateway v2 event for
// /healthz (opening keys, SQLite store, hash embedder), then a second, warm one. Prints a table
// of medians; run after `pnpm --filter @engram/server build`:
//   node packages/server/scripts/lambda-cold-start.mjs [runs]
// It measures the unbundled package tree; a bundled function (esbuild) imports faster.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKeyStorePath, openApiKeyStore } from '../dist/index.js';

const runs = Number(process.argv[2] ?? 5);
const directory = mkdtempSync(join(tmpdir(), 'engram-lambda-cold-'));
const keys = openApiKeyStore(apiKeyStorePath(directory));
keys.create({ project: 'bench' });
keys.close();

const child = `
const started = performance.now();
const { handler } = await import(${JSON.stringify(new URL('../dist/lambda.js', import.meta.url).href)});
const imported = performance.now();
const event = {
  version: '2.0', routeKey: '$default', rawPath: '/healthz', rawQueryString: '',
  headers: { host: 'bench' }, isBase64Encoded: false, body: null,
  requestContext: { http: { method: 'GET', path: '/healthz', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    stage: '$default', requestId: 'bench', routeKey: '$default', timeEpoch: 0 },
};
const first = await handler(event);
const answered = performance.now();
const second = await handler(event);
const warm = performance.now();
if (first.statusCode !== 200 || second.statusCode !== 200) process.exit(1);
console.log(JSON.stringify({ importMs: imported - started, firstMs: answered - imported, warmMs: warm - answered }));
process.exit(0);
`;

const load = loadavg()[0].toFixed(2);
const samples = [];
try {
  for (let run = 0; run < runs; run += 1) {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', child], {
      env: {
        ...process.env,
        ENGRAM_HOME: directory,
        ENGRAM_LOG_LEVEL: 'silent',
        ENGRAM_LLM: 'none',
        ENGRAM_EMBEDDER: 'hash',
        ENGRAM_VECTOR_STORE: 'sqlite',
      },
      encoding: 'utf8',
    });
    samples.push(JSON.parse(output.trim().split('\n').at(-1)));
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
console.log(
  `Lambda handler cold start, ${runs} fresh processes, load ${load} -> ${loadavg()[0].toFixed(2)}`,
);
console.log('| phase | median ms | min ms | max ms |');
console.log('| --- | ---: | ---: | ---: |');
for (const [phase, field] of [
  ['import @engram/server/lambda', 'importMs'],
  ['first invocation (opens stores)', 'firstMs'],
  ['warm invocation', 'warmMs'],
]) {
  const values = samples.map((sample) => sample[field]);
  console.log(
    `| ${phase} | ${median(values).toFixed(1)} | ${Math.min(...values).toFixed(1)} | ${Math.max(...values).toFixed(1)} |`,
  );
}
