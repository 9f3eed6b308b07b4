#!/usr/bin/env node
// Makes `faiss-node` loadable where its install script cannot run: that script downloads a
// prebuilt binary from GitHub releases, else clones FAISS from GitHub and builds it with
// cmake-js (which downloads Node's headers). Offline, with only package registries, this builds
// faiss-node's one source file against Debian's FAISS (`libfaiss-dev`, a static library) and
// Node's own headers, once per machine: the module is kept in ~/.cache/engram-faiss and copied
// into faiss-node's build/Release on later runs. Idempotent; prints what it did.
//
//   node scripts/build-faiss-node.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const packageDirectory = dirname(require.resolve('faiss-node/package.json'));
const { version } = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8'));
const target = join(packageDirectory, 'build', 'Release', 'faiss-node.node');
const cacheDirectory = join(
  process.env.ENGRAM_FAISS_CACHE ?? join(homedir(), '.cache', 'engram-faiss'),
);

function loads() {
  const probe = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(packageDirectory)}).IndexFlatIP && process.exit(0)`],
    { encoding: 'utf8' },
  );
  return probe.status === 0;
}

function run(command, args) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

function systemFaissVersion() {
  // Prints `libfaiss-dev<TAB><version>`, the version empty when the package is not installed.
  const result = spawnSync('dpkg-query', ['-W', 'libfaiss-dev'], { encoding: 'utf8' });
  const version = result.status === 0 ? result.stdout.trim().split('\t')[1] : undefined;
  return version || undefined;
}

function installSystemFaiss() {
  if (systemFaissVersion()) return;
  const install = ['install', '-y', '--no-install-recommends', 'libfaiss-dev', 'g++'];
  const first = spawnSync('apt-get', install, { stdio: 'inherit' });
  if (first.status === 0) return;
  run('apt-get', ['update']);
  run('apt-get', install);
}

function nodeHeaders() {
  for (const candidate of [
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ]) {
    if (existsSync(join(candidate, 'node_api.h'))) return candidate;
  }
  throw new Error(
    "Node's headers (node_api.h) were not found next to this Node; install Node with its include directory.",
  );
}

function compile(output) {
  const addonApi = dirname(
    createRequire(join(packageDirectory, 'package.json')).resolve('node-addon-api/package.json'),
  );
  const shim = join(cacheDirectory, 'faiss-idx-shim.h');
  // faiss-node 0.5 names `faiss::idx_t`, which FAISS declares from 1.7.4 on; Debian 12 has 1.7.3.
  writeFileSync(
    shim,
    '#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n',
  );
  run('g++', [
    '-shared',
    '-fPIC',
    '-std=c++17',
    '-O2',
    '-fopenmp',
    '-DNAPI_VERSION=8',
    '-DNAPI_DISABLE_CPP_EXCEPTIONS',
    '-include',
    shim,
    `-I${nodeHeaders()}`,
    `-I${addonApi}`,
    join(packageDirectory, 'src', 'faiss.cc'),
    '-o',
    output,
    '/usr/lib/x86_64-linux-gnu/libfaiss.a',
    '-llapack',
    '-lblas',
    '-lgomp',
  ]);
}

if (loads()) {
  console.log(`faiss-node ${version}: loads`);
  process.exit(0);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `faiss-node ${version} does not load and this script only builds it on Linux x64: reinstall faiss-node with its install script allowed, so it can fetch its prebuilt binary.`,
  );
  process.exit(1);
}
mkdirSync(cacheDirectory, { recursive: true });
installSystemFaiss();
const cached = join(
  cacheDirectory,
  `faiss-node-${version}-faiss-${systemFaissVersion()}-napi8.node`.replaceAll(/[^\w.+-]/g, '_'),
);
if (!existsSync(cached)) {
  console.log(`faiss-node ${version}: building against the system FAISS ${systemFaissVersion()}`);
  compile(`${cached}.tmp`);
  copyFileSync(`${cached}.tmp`, cached);
}
mkdirSync(dirname(target), { recursive: true });
copyFileSync(cached, target);
if (!loads()) {
  console.error(`faiss-node ${version}: built ${cached}, but it does not load`);
  process.exit(1);
}
console.log(`faiss-node ${version}: ready (${cached})`);
