// Copies the page and its style sheet beside the compiled scripts.
import { copyFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/browser/', import.meta.url));
const to = fileURLToPath(new URL('../dist/browser/', import.meta.url));
for (const name of readdirSync(from)) {
  if (name.endsWith('.html') || name.endsWith('.css') || name.endsWith('.svg')) {
    copyFileSync(from + name, to + name);
  }
}
