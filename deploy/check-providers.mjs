// Checks that the image's application tree (deploy/docker/build-app.sh) holds the optional model
// provider packages: a model of each, built by name as ENGRAM_LLM names it, must fail to connect
// (nothing listens on port 9), not say that its package is not installed.
//
//   node deploy/check-providers.mjs <application tree>
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// The package as the application resolves it (ESM only, so through its `exports`).
const app = resolve(process.argv[2] ?? '.');
const packageDir = join(app, 'node_modules', '@engram', 'ai-sdk');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const entry = manifest.exports['.'].import;
const { createLLMFromName } = await import(pathToFileURL(join(packageDir, entry)).href);
const names = [
  'anthropic:claude-haiku-4-5',
  'amazon-bedrock:anthropic.claude-3-haiku-20240307-v1:0',
  'togetherai:meta-llama/Llama-3.3-70B-Instruct-Turbo',
];
const env = {
  ENGRAM_LLM_API_KEY: 'unused',
  ENGRAM_LLM_BASE_URL: 'http://127.0.0.1:9',
  AWS_REGION: 'us-east-1',
  ENGRAM_LLM_OPTIONS: '{"maxRetries":0}',
};
let failed = false;
for (const name of names) {
  const error = await createLLMFromName(name, { env })
    .generate({ messages: [{ role: 'user', content: 'hi' }] })
    .then(
      () => new Error('answered, but nothing should listen on port 9'),
      (caught) => caught,
    );
  if (/not installed/.test(String(error?.message))) {
    console.error(`${name}: ${error.message}`);
    failed = true;
  } else {
    console.log(`${name}: package loaded (${String(error?.message).slice(0, 80)})`);
  }
}
process.exit(failed ? 1 : 0);
