#!/usr/bin/env node
// The model provider packages the image installs beside @engram/ai-sdk, as exact `name@version`
// specs (the versions @engram/ai-sdk's tests and the lockfile pin, from its devDependencies).
//
//   node deploy/docker/provider-packages.mjs [selection]
//
// selection: `all` (default: every provider the catalog in
// adapters/ai-sdk/src/ai-sdk-provider-catalog.ts names), `none` or "" (OpenAI and Ollama only,
// which need no optional package), or a space-separated list of provider prefixes as model names
// use them (`anthropic amazon-bedrock voyage`) or package names (`@ai-sdk/anthropic`); `openai`
// and `ollama` are accepted and add nothing (@engram/ai-sdk itself serves them).
// Run by deploy/docker/build-app.sh; deploy/check-manifests.mjs reads the same catalog.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const aiSdk = join(root, 'adapters', 'ai-sdk');

/** Every provider of the catalog: its prefix, package and roles, in catalog order. */
export function catalogProviders() {
  const source = readFileSync(join(aiSdk, 'src', 'ai-sdk-provider-catalog.ts'), 'utf8');
  const body = source.slice(source.indexOf('export const providerCatalog'));
  const providers = [];
  const entry =
    /^ {2}'?([a-z][a-z0-9-]*)'?: \{\n {4}packageName: '([^']+)'[\s\S]*?\n {4}roles: \[([^\]]*)\]/gm;
  for (const match of body.matchAll(entry)) {
    const roles = [...match[3].matchAll(/'([a-z]+)'/g)].map((role) => role[1]);
    providers.push({ prefix: match[1], packageName: match[2], roles });
  }
  return providers;
}

/** The `@engram/ai-sdk` manifest. */
export function aiSdkManifest() {
  return JSON.parse(readFileSync(join(aiSdk, 'package.json'), 'utf8'));
}

/** Prefixes served by @engram/ai-sdk's own dependencies. */
const builtIn = new Set(['openai', 'ollama']);

/** The exact `name@version` specs of a selection; throws naming what it does not know. */
export function providerPackages(selection = 'all') {
  const words = selection
    .trim()
    .split(/\s+/)
    .filter((word) => word && !builtIn.has(word));
  if (words.length === 0 || (words.length === 1 && words[0] === 'none')) return [];
  const providers = catalogProviders();
  const versions = aiSdkManifest().devDependencies ?? {};
  const chosen =
    words.length === 1 && words[0] === 'all'
      ? providers
      : words.map((word) => {
          const provider = providers.find(
            (entry) => entry.prefix === word || entry.packageName === word,
          );
          if (!provider) {
            throw new Error(
              `ENGRAM_PROVIDERS names "${word}", which is not a provider of @engram/ai-sdk. Give all, none, or some of: ${providers.map((entry) => entry.prefix).join(' ')}`,
            );
          }
          return provider;
        });
  return [...new Set(chosen.map((entry) => entry.packageName))].map((name) => {
    const version = versions[name];
    if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
      throw new Error(
        `${name} has no exact version in adapters/ai-sdk/package.json devDependencies: add it with pnpm --filter @engram/ai-sdk add -D --save-exact ${name}`,
      );
    }
    return `${name}@${version}`;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(providerPackages(process.argv[2] ?? 'all').join(' '));
  } catch (error) {
    console.error(`provider-packages: ${error.message}`);
    process.exit(2);
  }
}
