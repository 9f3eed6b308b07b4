#!/usr/bin/env node
// The local models' own figures: all-MiniLM-L6-v2 (int8, @engram/transformers) embedding
// throughput one text per call and in batches, with 1 and 2 ONNX threads, and the process's
// memory; SmolLM2-135M-Instruct (Q4_1 GGUF, @engram/llama-cpp) running `Memory.add`'s extraction
// and reconciliation calls with their JSON schemas enforced by a grammar: tokens/s and whether
// every answer parsed; the install size @engram/transformers adds (its dependency closure on
// disk). Needs the model files: `ENGRAM_MODELS_DIR=$(pnpm -s models | tail -1)`. Build first
// (`pnpm --filter '@engram/bench...' --filter @engram/llama-cpp build`), then:
//
//   node packages/bench/scripts/local-models.mjs [--texts 2000] [--adds 10]
//
// Prints markdown tables with the load average before and after each part.
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHashEmbedder, createInMemoryVectorStore, Memory } from '@engram/core';
import { createTransformersEmbedder } from '@engram/transformers';
import { createPipelineData } from '../dist/pipeline-data.js';

const { createLlamaCppLLM } = await import('../../../adapters/llama-cpp/dist/index.js');
const { values } = parseArgs({
  options: {
    texts: { type: 'string', default: '2000' },
    adds: { type: 'string', default: '10' },
  },
});
const textCount = Number(values.texts);
const addCount = Number(values.adds);
const modelsDir = process.env.ENGRAM_MODELS_DIR;
if (!modelsDir) {
  console.error('Set ENGRAM_MODELS_DIR to the directory `pnpm models` prints.');
  process.exit(2);
}
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rate = (count, ms) => Math.round((count * 1000) / ms).toLocaleString('en-US');
const data = createPipelineData({ users: 100 });
const texts = Array.from({ length: textCount }, (_, index) => data.memory(index).text);
const out = [];

// --- Embedding throughput ---------------------------------------------------------------
out.push(
  `all-MiniLM-L6-v2 int8 (${textCount.toLocaleString('en-US')} stored-memory texts, mean ${Math.round(texts.reduce((sum, text) => sum + text.length, 0) / texts.length)} characters), one process, after a warm-up`,
  '',
  '| ONNX threads | texts per call | texts/s | ms per call (median) | RSS after | load before -> after |',
  '| --- | --- | --- | --- | --- | --- |',
);
const rssBefore = process.memoryUsage().rss;
let modelRss = 0;
for (const threads of [1, 2]) {
  const embedder = createTransformersEmbedder({ modelsDir, threads, batchSize: 64 });
  const loadStarted = performance.now();
  await embedder.prepare();
  const loadMs = performance.now() - loadStarted;
  if (threads === 1) modelRss = process.memoryUsage().rss - rssBefore;
  await embedder.embed({ values: texts.slice(0, 32), purpose: 'document' });
  for (const perCall of [1, 16, 64]) {
    const loadBefore = load();
    const count = perCall === 1 ? Math.min(500, textCount) : textCount;
    const callTimes = [];
    const started = performance.now();
    for (let start = 0; start < count; start += perCall) {
      const callStarted = performance.now();
      await embedder.embed({ values: texts.slice(start, start + perCall), purpose: 'document' });
      callTimes.push(performance.now() - callStarted);
    }
    const elapsed = performance.now() - started;
    callTimes.sort((left, right) => left - right);
    out.push(
      `| ${threads} | ${perCall} | ${rate(count, elapsed)} | ${callTimes[Math.floor(callTimes.length / 2)].toFixed(1)} | ${mib(process.memoryUsage().rss)} | ${loadBefore} -> ${load()} |`,
    );
  }
  console.error(`embedder, ${threads} thread(s): loaded in ${loadMs.toFixed(0)} ms`);
}
out.push(
  '',
  `Model loaded (1 thread): RSS +${mib(modelRss)} over the process before it (${mib(rssBefore)}).`,
);

// --- The small LLM ----------------------------------------------------------------------
const llm = createLlamaCppLLM({ model: 'local', env: { ENGRAM_MODELS_DIR: modelsDir } });
const calls = [];
const measured = {
  ...llm,
  async generate(options) {
    const started = performance.now();
    const result = await llm.generate(options);
    const ms = performance.now() - started;
    let parsed = result.object !== undefined;
    if (!parsed) {
      try {
        JSON.parse(result.text);
        parsed = true;
      } catch {}
    }
    calls.push({
      schema: options.responseFormat?.name ?? options.responseFormat?.type ?? 'text',
      ms,
      input: result.usage?.inputTokens ?? 0,
      output: result.usage?.outputTokens ?? 0,
      parsed,
    });
    return result;
  },
};
const rssBeforeLlm = process.memoryUsage().rss;
await llm.prepare();
const llmRss = process.memoryUsage().rss - rssBeforeLlm;
const memory = new Memory({
  vectorStore: createInMemoryVectorStore(),
  embedder: createHashEmbedder(),
  llm: measured,
  graphStore: null,
});
const llmLoadBefore = load();
let warnings = 0;
let failures = 0;
for (let index = 0; index < addCount; index++) {
  try {
    const result = await memory.add(data.conversation(index).messages, { userId: 'user-1' });
    warnings += result.warnings?.length ?? 0;
  } catch (error) {
    failures++;
    console.error(`add ${index} failed: ${error.message}`);
  }
}
const llmLoadAfter = load();
await memory.close();
await llm.close();
const bySchema = new Map();
for (const call of calls) {
  const entry = bySchema.get(call.schema) ?? { n: 0, ms: 0, input: 0, output: 0, parsed: 0 };
  entry.n++;
  entry.ms += call.ms;
  entry.input += call.input;
  entry.output += call.output;
  entry.parsed += call.parsed ? 1 : 0;
  bySchema.set(call.schema, entry);
}
out.push(
  '',
  `SmolLM2-135M-Instruct Q4_1 (GGUF, node-llama-cpp, 1 thread, temperature 0), ${addCount} \`Memory.add\` calls of the pipeline workload's conversations; load ${llmLoadBefore} -> ${llmLoadAfter}; model loaded: RSS +${mib(llmRss)}`,
  '',
  '| call (schema) | calls | answers that parsed | input tokens per call | output tokens per call | output tokens/s (over the whole call, prompt included) | ms per call (mean) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
);
for (const [schema, entry] of bySchema) {
  out.push(
    `| ${schema} | ${entry.n} | ${entry.parsed} / ${entry.n} | ${Math.round(entry.input / entry.n)} | ${Math.round(entry.output / entry.n)} | ${(entry.output / (entry.ms / 1000)).toFixed(1)} | ${(entry.ms / entry.n).toFixed(0)} |`,
  );
}
out.push('', `Adds that threw: ${failures} of ${addCount}; warnings returned: ${warnings}.`);

// --- Install size -----------------------------------------------------------------------
function sizeOnDisk(path) {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += sizeOnDisk(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}
function packageRoot(name, from) {
  const require = createRequire(join(from, 'package.json'));
  let dir = dirname(require.resolve(name));
  while (!statSync(join(dir, 'package.json'), { throwIfNoEntry: false })) dir = dirname(dir);
  while (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    dir = dirname(dir);
  }
  return realpathSync(dir);
}
const transformersDir = fileURLToPath(new URL('../../../adapters/transformers/', import.meta.url));
const closure = new Map();
const queue = [['@huggingface/transformers', transformersDir]];
while (queue.length > 0) {
  const [name, from] = queue.pop();
  let root;
  try {
    root = packageRoot(name, from);
  } catch {
    continue; // an optional dependency not installed on this platform
  }
  if ([...closure.values()].includes(root)) continue;
  closure.set(name, root);
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const dependency of Object.keys({
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
  })) {
    queue.push([dependency, root]);
  }
}
const sizes = [...closure].map(([name, root]) => [name, sizeOnDisk(root)]);
sizes.sort((left, right) => right[1] - left[1]);
const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0);
out.push(
  '',
  `Install size of \`@huggingface/transformers\` and its dependencies (${sizes.length} packages, this platform's optional binaries only): ${mib(total)}; largest: ${sizes
    .slice(0, 4)
    .map(([name, bytes]) => `${name} ${mib(bytes)}`)
    .join(
      ', ',
    )}. The model files (${mib(sizeOnDisk(join(modelsDir, 'all-MiniLM-L6-v2')))}) are fetched once into the cache, not installed.`,
);
console.log(out.join('\n'));
