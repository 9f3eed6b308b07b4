#!/usr/bin/env node
// Scaffolds a new vector-store adapter: the package (a store built with `defineVectorStore`
// from @engram/adapter-kit, its `engramAdapter` descriptor, filter translation with its table
// test, conformance test, vitest configs, README), its service folder (service.json, one-line
// Dockerfile, optional native launcher on services/lib.sh) and its changeset.
//
//   pnpm new-adapter <name> [--native] [--root <dir>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    native: { type: 'boolean', default: false },
    root: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const usage = 'Usage: pnpm new-adapter <name> [--native]   (name: lowercase letters, digits, "-")';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const name = positionals[0];
if (!name || !/^[a-z][a-z0-9-]{1,30}$/.test(name) || positionals.length > 1) {
  console.error(`${usage}\nGot: ${positionals.join(' ') || '(nothing)'}`);
  process.exit(2);
}

const root = values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const packageDirectory = join(root, 'adapters', name);
const serviceDirectory = join(root, 'conformance', 'services', name);
for (const directory of [packageDirectory, serviceDirectory]) {
  if (existsSync(directory)) {
    console.error(`${directory} already exists; pick another name or remove it first.`);
    process.exit(2);
  }
}

const pascal = name
  .split('-')
  .map((part) => part[0].toUpperCase() + part.slice(1))
  .join('');
const camel = pascal[0].toLowerCase() + pascal.slice(1);
const envPrefix = name.toUpperCase().replaceAll('-', '_');

const files = {
  [join(packageDirectory, 'package.json')]: `${JSON.stringify(
    {
      name: `@engram/${name}`,
      version: '0.0.0',
      description: `Engram vector store on ${pascal}`,
      license: 'Apache-2.0',
      type: 'module',
      sideEffects: false,
      exports: {
        '.': { types: './dist/index.d.ts', import: './dist/index.js' },
        './package.json': './package.json',
      },
      files: ['dist', '!dist/**/*.test.*', 'README.md'],
      engines: { node: '>=20.19' },
      scripts: {
        build: 'tsc -p tsconfig.build.json',
        typecheck: 'tsc -p tsconfig.json --noEmit && tsc -p test/tsconfig.json',
        test: 'vitest run',
        'test:conformance': 'vitest run --config vitest.conformance.config.ts',
      },
      dependencies: { '@engram/adapter-kit': 'workspace:^' },
      peerDependencies: { '@engram/core': 'workspace:^' },
      devDependencies: { '@engram/conformance': 'workspace:*', '@engram/core': 'workspace:^' },
    },
    null,
    2,
  )}\n`,
  [join(packageDirectory, 'tsconfig.json')]: `${JSON.stringify(
    { extends: '../../tsconfig.package.json' },
    null,
    2,
  )}\n`,
  [join(packageDirectory, 'tsconfig.build.json')]: `${JSON.stringify(
    { extends: '../../tsconfig.package-build.json' },
    null,
    2,
  )}\n`,
  [join(packageDirectory, 'test', 'tsconfig.json')]: `${JSON.stringify(
    { extends: '../../../tsconfig.test.json' },
    null,
    2,
  )}\n`,
  [join(packageDirectory, 'vitest.config.ts')]:
    `import { unitTestConfig } from '../../vitest.shared.ts';

// Unit tests only: no server needed. The real-server suite is vitest.conformance.config.ts.
export default unitTestConfig();
`,
  [join(packageDirectory, 'vitest.conformance.config.ts')]:
    `import { conformanceTestConfig } from '../../vitest.shared.ts';

export default conformanceTestConfig();
`,
  [join(packageDirectory, 'src', 'index.ts')]:
    `export { engramAdapter } from './${name}-adapter.js';
export { translate${pascal}Filter } from './${name}-filter.js';
export type { ${pascal}VectorStoreOptions } from './${name}-vector-store.js';
export { create${pascal}VectorStore } from './${name}-vector-store.js';
`,
  [join(packageDirectory, 'src', `${name}-adapter.ts`)]:
    `import { defineAdapter } from '@engram/core';
import { create${pascal}VectorStore, type ${pascal}VectorStoreOptions } from './${name}-vector-store.js';

/** Lets configuration name this adapter (\`${name}\`); settings come from \`options\` and the environment. */
export const engramAdapter = defineAdapter({
  kind: 'vector',
  name: '${name}',
  description: '${pascal} collections (cosine)',
  create: ({ options }) => create${pascal}VectorStore((options ?? {}) as ${pascal}VectorStoreOptions),
});
`,
  [join(packageDirectory, 'src', `${name}-filter.ts`)]:
    `import { type FilterExpression, UnsupportedFunctionalityError } from '@engram/core';

/**
 * Translates the portable filter AST into ${pascal}'s native filter. Follow the semantics
 * documented on \`FilterExpression\` exactly; throw UnsupportedFunctionalityError for anything
 * ${pascal} cannot express exactly, and leave that operator out of the store's capabilities.
 */
export function translate${pascal}Filter(filter: FilterExpression): unknown {
  throw new UnsupportedFunctionalityError({
    source: '${name}',
    message: \`The filter operator "\${filter.op}" is not translated yet.\`,
  });
}
`,
  [join(packageDirectory, 'src', `${name}-filter.test.ts`)]:
    `import type { FilterExpression } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { translate${pascal}Filter } from './${name}-filter.js';

describe('translate${pascal}Filter', () => {
  it.each<[FilterExpression, unknown]>([
    // [{ op: 'eq', field: 'category', value: 'food' }, <the native filter>],
  ])('%j', (filter, expected) => {
    expect(translate${pascal}Filter(filter)).toEqual(expected);
  });

  it('rejects what it cannot translate exactly', () => {
    expect(() => translate${pascal}Filter({ op: 'eq', field: 'a', value: 1 })).toThrow('not translated');
  });
});
`,
  [join(packageDirectory, 'src', `${name}-vector-store.ts`)]:
    `import { defineVectorStore, loadOptionalSetting } from '@engram/adapter-kit';
import { UnsupportedFunctionalityError, type VectorStore } from '@engram/core';

/** Options of {@link create${pascal}VectorStore}. */
export interface ${pascal}VectorStoreOptions {
  /** Server URL. Default: the \`${envPrefix}_URL\` environment variable. */
  url?: string;
  /** API key, when the server needs one. Default: \`${envPrefix}_API_KEY\`. */
  apiKey?: string;
}

const source = '${name}';

function notYet(operation: string): never {
  throw new UnsupportedFunctionalityError({ source, message: \`\${operation} is not implemented yet.\` });
}

/**
 * A ${pascal} vector store. The factory does no I/O: the client is created on first use. The
 * kit adds the closed and abort checks, error mapping, \`close\` and \`Symbol.asyncDispose\`.
 */
export function create${pascal}VectorStore(options: ${pascal}VectorStoreOptions = {}): VectorStore {
  const settings = {
    url: loadOptionalSetting({
      value: options.url,
      environmentVariableName: '${envPrefix}_URL',
      settingName: 'url',
      source,
    }),
    apiKey: loadOptionalSetting({
      value: options.apiKey,
      environmentVariableName: '${envPrefix}_API_KEY',
      settingName: 'apiKey',
      source,
    }),
  };
  void settings;
  return defineVectorStore({
    provider: source,
    capabilities: {
      keywordSearch: false,
      filterOperators: [],
      maxBatchSize: 100,
      metric: 'cosine',
      atomicHistory: false,
    },
    methods: () => ({
      ensureCollection: async () => notYet('ensureCollection'),
      upsert: async () => notYet('upsert'),
      query: async () => notYet('query'),
      get: async () => notYet('get'),
      delete: async () => notYet('delete'),
      list: async () => notYet('list'),
      count: async () => notYet('count'),
      dropCollection: async () => notYet('dropCollection'),
    }),
  });
}
`,
  [join(packageDirectory, 'test', 'global-setup.ts')]:
    `import { serviceGlobalSetup } from '@engram/conformance/services';

export default serviceGlobalSetup('${name}');
`,
  [join(packageDirectory, 'test', `${name}.conformance.test.ts`)]:
    `import { describeVectorStore, providedServer } from '@engram/conformance';
import { create${pascal}VectorStore } from '../src/index.js';

const { url, ...server } = providedServer();

describeVectorStore({
  name: '${name}',
  create: () => create${pascal}VectorStore({ url }),
  ...server,
});
`,
  [join(packageDirectory, 'README.md')]: `# @engram/${name}

Engram vector store on ${pascal}.

\`\`\`ts
import { Memory } from '@engram/core';
import { create${pascal}VectorStore } from '@engram/${name}';

const memory = new Memory({ vectorStore: create${pascal}VectorStore({ url: process.env.${envPrefix}_URL }) });
\`\`\`

## Options

| option | default | meaning |
| --- | --- | --- |
| \`url\` | \`${envPrefix}_URL\` | server URL |
| \`apiKey\` | \`${envPrefix}_API_KEY\` | API key |

## Capabilities

Keyword search, filter operators, batch size: fill in, and say why anything is unsupported.

## Conformance

See [conformance/MATRIX.md](../../conformance/MATRIX.md).
`,
  [join(serviceDirectory, 'service.json')]: `${JSON.stringify(
    {
      envVar: `${envPrefix}_URL`,
      nativeLauncher: values.native,
      ...(values.native
        ? {}
        : { nativeUnavailableReason: `no way to run ${pascal} here without Docker yet` }),
      container: { port: 8080, wait: { type: 'port' }, url: 'http://{host}:{port}' },
    },
    null,
    2,
  )}\n`,
  [join(serviceDirectory, 'Dockerfile')]: `FROM ${name}/${name}:latest\n`,
  [join(root, '.changeset', `${name}-adapter.md`)]: `---
"@engram/${name}": minor
---

New package \`@engram/${name}\`: Engram's \`VectorStore\` on ${pascal} (\`create${pascal}VectorStore\`).
`,
};

if (values.native) {
  files[join(serviceDirectory, 'launcher.sh')] = `#!/usr/bin/env bash
# Installs a real ${pascal} server from package registries and runs it on 127.0.0.1:\${${envPrefix}_PORT:-8080}.
#
#   bash launcher.sh install|start|stop|status
#
# Progress goes to stderr; stdout carries only the URL (start, status).
set -euo pipefail
source "$(dirname "\${BASH_SOURCE[0]}")/../lib.sh"

service_name=${name}
port="\${${envPrefix}_PORT:-8080}"
service_home="$services_home/${name}"
pid_file="$service_home/server-$port.pid"
log_file="$service_home/server-$port.log"
url="http://127.0.0.1:$port"

install() {
  # Install from a package registry (npm, PyPI, Maven Central, the Go proxy, apt) into
  # $service_home, skipping the work when it is already there.
  fail "installing ${pascal} is not written yet"
}

ready() { curl -fsS -o /dev/null --max-time 2 "$url"; }

start() {
  if already_running; then return; fi
  if port_open "$port"; then fail "port $port is taken; set ${envPrefix}_PORT to a free port"; fi
  install
  mkdir -p "$service_home"
  log "starting ${pascal} on 127.0.0.1:$port (log in $log_file)"
  spawn_server false # the server command, run in the foreground
  wait_ready "\${${envPrefix}_START_TIMEOUT:-120}" 1
  echo "$url"
}

stop() { stop_recorded 30; }

status() { report_status 1; }

launcher_main "$@"
`;
}

for (const [path, content] of Object.entries(files)) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
const biome = join(root, 'node_modules', '.bin', 'biome');
if (existsSync(biome)) {
  spawnSync(biome, ['check', '--write', packageDirectory, serviceDirectory], { stdio: 'ignore' });
}
console.log(`Created @engram/${name}:
  adapters/${name}/                  the package (factory, filter translation, tests)
  conformance/services/${name}/      how the suites get a real server
  .changeset/${name}-adapter.md
Next: pnpm install, then fill in src/${name}-vector-store.ts and src/${name}-filter.ts until
\`pnpm --filter @engram/${name} test\` and \`pnpm conformance ${name}\` pass. See CONTRIBUTING.md.`);
void camel;
