// Checks that the image's application tree (deploy/docker/build-app.sh) holds the optional model
// provider packages: a model of every provider the @engram/ai-sdk catalog names, built by name as
// ENGRAM_LLM (or ENGRAM_EMBEDDER, for a provider with no LLM) names it, must fail to connect
// (nothing listens on port 9), not say that its package is not installed.
//
//   node deploy/check-providers.mjs <application tree> [provider prefixes, default all]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalogProviders } from './docker/provider-packages.mjs';

// The package as the application resolves it (ESM only, so through its `exports`).
const app = resolve(process.argv[2] ?? '.');
const packageDir = join(app, 'node_modules', '@engram', 'ai-sdk');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const entry = manifest.exports['.'].import;
const { createEmbedderFromName, createLLMFromName } = await import(
  pathToFileURL(join(packageDir, entry)).href
);
const selected = (process.argv[3] ?? 'all').split(/\s+/).filter(Boolean);
const providers = catalogProviders().filter(
  (provider) => selected.includes('all') || selected.includes(provider.prefix),
);
const env = {
  ENGRAM_LLM_API_KEY: 'unused',
  ENGRAM_LLM_BASE_URL: 'http://127.0.0.1:9',
  ENGRAM_EMBEDDER_API_KEY: 'unused',
  ENGRAM_EMBEDDER_BASE_URL: 'http://127.0.0.1:9',
  AWS_REGION: 'us-east-1',
  ENGRAM_EMBEDDER_DIMENSIONS: '8',
};
let failed = false;
for (const { prefix, roles } of providers) {
  const call = roles.includes('llm')
    ? () =>
        createLLMFromName(`${prefix}:check-model`, { env, maxRetries: 0 }).generate({
          messages: [{ role: 'user', content: 'hi' }],
        })
    : () =>
        createEmbedderFromName(`${prefix}:check-model`, { env, maxRetries: 0 }).embed({
          values: ['hi'],
          purpose: 'query',
        });
  const error = await Promise.resolve()
    .then(call)
    .then(
      () => new Error('answered, but nothing should listen on port 9'),
      (caught) => caught,
    );
  if (/not installed/.test(String(error?.message))) {
    console.error(`${prefix}: ${error.message}`);
    failed = true;
  } else {
    console.log(`${prefix}: package loaded (${String(error?.message).slice(0, 80)})`);
  }
}
process.exit(failed || providers.length === 0 ? 1 : 0);
