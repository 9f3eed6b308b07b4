// Backup and restore throughput (memories/s) and peak memory of each, on the embedded SQLite
// store with the hash embedder (384 dimensions), written to a local directory:
//   node scripts/backup-throughput.mjs [memories=100000]
// Each phase runs in its own process so that its peak RSS is its own. Prints a table; writes nothing
// else (the data lives in a temporary directory, removed at the end).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDirectoryBackupTarget, createHashEmbedder, Memory } from '@engram/core';
import { createSqliteStore } from '@engram/sqlite';

const [phase, size, directory] = process.argv.slice(2);

function open(path) {
  return new Memory({
    vectorStore: createSqliteStore({ path }),
    embedder: createHashEmbedder(),
    llm: null,
    graphStore: null,
  });
}

async function run() {
  const count = Number(size);
  const started = performance.now();
  let done = 0;
  if (phase === 'seed') {
    const memory = open(join(directory, 'source.db'));
    for (let start = 0; start < count; start += 1000) {
      const items = Array.from({ length: Math.min(1000, count - start) }, (_, offset) => ({
        text: `memory ${start + offset}: likes trains, tea and walks by the river number ${(start + offset) % 977}`,
        userId: `user-${(start + offset) % 1000}`,
        metadata: { index: start + offset },
      }));
      done += (await memory.import(items)).results.length;
    }
    await memory.close();
  } else if (phase === 'backup') {
    const memory = open(join(directory, 'source.db'));
    const manifest = await memory.backup({
      target: createDirectoryBackupTarget(join(directory, 'backup')),
    });
    done = manifest.counts.memories;
    await memory.close();
  } else if (phase === 'restore') {
    const memory = open(join(directory, 'restored.db'));
    done = (
      await memory.restore({
        source: createDirectoryBackupTarget(join(directory, 'backup')),
        intoEmptyOnly: true,
      })
    ).memories;
    await memory.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ phase, done, seconds, peakMiB })}\n`);
}

if (['seed', 'backup', 'restore'].includes(phase)) {
  await run();
} else {
  const count = Number(process.argv[2] ?? 100_000);
  const work = mkdtempSync(join(tmpdir(), 'engram-backup-bench-'));
  try {
    const script = fileURLToPath(import.meta.url);
    console.log(`| phase | memories | seconds | memories/s | peak RSS (MiB) |`);
    console.log(`| --- | ---: | ---: | ---: | ---: |`);
    for (const step of ['seed', 'backup', 'restore']) {
      const output = execFileSync(process.execPath, [script, step, String(count), work], {
        encoding: 'utf8',
      });
      const result = JSON.parse(output.trim().split('\n').at(-1));
      console.log(
        `| ${step} | ${result.done} | ${result.seconds.toFixed(1)} | ${Math.round(result.done / result.seconds)} | ${Math.round(result.peakMiB)} |`,
      );
    }
    console.log(
      `backup size: ${execFileSync('du', ['-sh', join(work, 'backup')], { encoding: 'utf8' }).split('\t')[0]}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
