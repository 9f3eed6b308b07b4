#!/usr/bin/env node
// Loads every native dependency of the workspace under the running Node.js and does one small
// call with each, so a Node.js version whose binaries are missing or built for another ABI fails
// here with the module's name rather than deep inside a test. A module that no workspace package
// depends on is reported as absent; one that is declared but does not load fails the check.
//
//   node scripts/check-native-modules.mjs
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each native module, with a call that makes it load its binary. */
const checks = {
  'better-sqlite3': async (module) => {
    const Database = module.default;
    const database = new Database(':memory:');
    const row = database.prepare('select sqlite_version() as version').get();
    database.close();
    return `SQLite ${row.version}`;
  },
  'better-sqlite3-multiple-ciphers': async (module) => {
    const Database = module.default;
    const database = new Database(':memory:');
    const cipher = database.pragma('cipher', { simple: true });
    database.close();
    return `cipher ${cipher}`;
  },
  kuzu: async (module) => {
    const kuzu = module.default ?? module;
    const database = new kuzu.Database(':memory:');
    const connection = new kuzu.Connection(database);
    const result = await connection.query('RETURN 1 AS one');
    const rows = await result.getAll();
    await connection.close?.();
    await database.close?.();
    return `query returned ${rows.length} row`;
  },
  '@lancedb/lancedb': async (module) => {
    const connection = await module.connect('memory://');
    const names = await connection.tableNames();
    return `connected, ${names.length} tables`;
  },
  usearch: async (module) => {
    const { Index } = module.default ?? module;
    const index = new Index({ metric: 'cos', connectivity: 16, dimensions: 3 });
    index.add(1n, new Float32Array([1, 0, 0]));
    return `index of ${index.size()} vector`;
  },
  'onnxruntime-node': async (module) => {
    const ort = module.default ?? module;
    const tensor = new ort.Tensor('float32', new Float32Array([1, 2]), [2]);
    return `tensor of ${tensor.size} values (${ort.env?.versions?.common ?? 'version unknown'})`;
  },
  'node-llama-cpp': async (module) => {
    const llama = await module.getLlama({ gpu: false, build: 'never', progressLogs: false });
    return `llama.cpp ${llama.llamaCppRelease?.release ?? 'loaded'}`;
  },
};

function workspacePackageDirectories() {
  const directories = [];
  for (const parent of ['packages', 'adapters', 'examples']) {
    const path = join(root, parent);
    if (!existsSync(path)) continue;
    for (const name of readdirSync(path)) {
      if (existsSync(join(path, name, 'package.json'))) directories.push(join(path, name));
    }
  }
  return directories;
}

/**
 * The workspace packages that install the module (dependencies, dev and optional dependencies;
 * a peer dependency alone installs nothing), so it resolves as such a package sees it.
 */
function declaringPackage(moduleName) {
  for (const directory of workspacePackageDirectories()) {
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    const declared = {
      ...manifest.dependencies,
      ...manifest.devDependencies,
      ...manifest.optionalDependencies,
    };
    if (moduleName in declared) return directory;
  }
  return undefined;
}

let failed = 0;
console.log(`native modules under Node.js ${process.version} (ABI ${process.versions.modules})`);
for (const [name, check] of Object.entries(checks)) {
  const directory = declaringPackage(name);
  if (!directory) {
    console.log(`  ${name}: absent (no workspace package depends on it)`);
    continue;
  }
  try {
    const require = createRequire(join(directory, 'package.json'));
    const resolved = require.resolve(name);
    const module = await import(pathToFileURL(resolved).href);
    console.log(`  ${name}: ok, ${await check(module)}`);
  } catch (error) {
    failed++;
    console.log(`  ${name}: FAILED (${error instanceof Error ? error.message : String(error)})`);
  }
}
if (failed > 0) {
  console.log(`${failed} native module(s) failed to load under Node.js ${process.version}.`);
  process.exit(1);
}
