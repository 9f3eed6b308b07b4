import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { BenchContext, WorkloadReport } from './context.js';
import { loadLine, markdownTable, runHeader } from './report.js';
import { formatMs, summarize } from './stats.js';

const run = promisify(execFile);

/** What one fresh process measured, in milliseconds since the process started. */
interface ColdStart {
  /** Node.js ready to run the first line of the script. */
  boot: number;
  /** `import('@engram/server/lambda')`. */
  importMs: number;
  /** The first invocation: stores, keys and models opened, then one search answered. */
  firstRequestMs: number;
  /** A second invocation in the same process (warm). */
  warmRequestMs: number;
  /** Process start to the first answer. */
  total: number;
  status: number;
}

/** The handler module of `@engram/server/lambda`, resolved through the CLI that depends on it. */
function lambdaModule(): string {
  const require = createRequire(import.meta.url);
  const fromCli = createRequire(require.resolve('@engram/cli/package.json'));
  return join(dirname(fromCli.resolve('@engram/server/package.json')), 'dist', 'lambda.js');
}

const bootstrapKey = 'bench0123456789abcdef0123456789abcdef0123456789';

/**
 * The script each fresh process runs: imports the handler as Lambda's Node.js runtime would,
 * then sends it two API Gateway (HTTP API) search events and reports the times.
 */
function childScript(modulePath: string): string {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v1/search',
    rawQueryString: '',
    headers: {
      host: 'bench.execute-api.eu-west-1.amazonaws.com',
      'content-type': 'application/json',
      authorization: `Bearer ${bootstrapKey}`,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'bench',
      http: {
        method: 'POST',
        path: '/v1/search',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'bench',
      },
      requestId: 'cold-start',
      routeKey: '$default',
      stage: '$default',
      time: '06/Dec/2026:12:00:00 +0000',
      timeEpoch: 1796558400000,
    },
    isBase64Encoded: false,
    body: JSON.stringify({ query: 'what does she like to drink', userId: 'alice' }),
  };
  return `
const boot = performance.now();
const { handler } = await import(${JSON.stringify(pathToFileURL(modulePath).href)});
const imported = performance.now();
const event = ${JSON.stringify(event)};
const first = await handler(event);
const answered = performance.now();
await handler({ ...event, requestContext: { ...event.requestContext, requestId: 'warm' } });
const warm = performance.now();
process.stdout.write('\\n' + JSON.stringify({ boot, importMs: imported - boot, firstRequestMs: answered - imported, warmRequestMs: warm - answered, total: answered, status: first.statusCode }) + '\\n');
process.exit(0);
`;
}

async function coldStart(script: string, dataDir: string): Promise<ColdStart> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ENGRAM_HOME: dataDir,
      ENGRAM_EMBEDDER: 'hash',
      ENGRAM_LLM: 'none',
      ENGRAM_LOG_LEVEL: 'silent',
      ENGRAM_BOOTSTRAP_KEY: bootstrapKey,
      ENGRAM_BOOTSTRAP_PROJECT: 'bench',
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const result = JSON.parse(line) as ColdStart;
  if (result.status !== 200) throw new Error(`The first request answered ${result.status}.`);
  return result;
}

/**
 * `pnpm bench lambda`: the cold start of the AWS Lambda handler (`@engram/server/lambda`), each
 * run in a fresh Node.js process as a new Lambda execution environment would: import, then the
 * first request (which opens the stores), then one warm request. Median and p95 of N runs
 * (`--queries N`, default 10) after one unmeasured run that creates the data files, so the runs
 * measure a function whose volume (e.g. EFS) already holds its data.
 */
export async function runLambdaColdStart(context: BenchContext): Promise<WorkloadReport> {
  const runs = context.queries ?? (context.smoke ? 2 : 10);
  const loadBefore = loadLine();
  const modulePath = lambdaModule();
  const script = childScript(modulePath);
  const dataDir = mkdtempSync(join(tmpdir(), 'engram-bench-lambda-'));
  const results: ColdStart[] = [];
  try {
    await coldStart(script, dataDir);
    for (let index = 0; index < runs; index++) {
      const result = await coldStart(script, dataDir);
      context.log(
        `  run ${index + 1}/${runs}: import ${formatMs(result.importMs)} ms, first request ${formatMs(result.firstRequestMs)} ms, total ${formatMs(result.total)} ms`,
      );
      results.push(result);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const row = (label: string, pick: (result: ColdStart) => number) => {
    const summary = summarize(results.map(pick));
    return [label, formatMs(summary.median), formatMs(summary.p95), formatMs(summary.max)];
  };
  const table = markdownTable(
    ['phase (ms)', 'median', 'p95', 'max'],
    [
      row('Node.js start', (result) => result.boot),
      row('import @engram/server/lambda', (result) => result.importMs),
      row(
        'first request (opens store, key, models; one search)',
        (result) => result.firstRequestMs,
      ),
      row('cold start: process start to first answer', (result) => result.total),
      row('next request (warm)', (result) => result.warmRequestMs),
    ],
  );
  const markdown = [
    '## AWS Lambda handler cold start',
    '',
    runHeader(context.command, loadBefore),
    '',
    `${runs} fresh Node.js processes, each importing the handler and answering two API Gateway (HTTP API) search events, as a new execution environment would; embedded SQLite store on local disk (already created), hash embedder, no LLM, the API key from ENGRAM_BOOTSTRAP_KEY. Lambda adds its own runtime start and the package download, which are not measured here.`,
    '',
    table,
  ].join('\n');
  return { key: 'lambda', markdown };
}
