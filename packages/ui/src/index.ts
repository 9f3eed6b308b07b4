import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the memory browser, ready to serve. */
export interface UiAsset {
  /** File name, e.g. `app.js`; the page is `index.html`. */
  name: string;
  /** `Content-Type` to answer with. */
  contentType: string;
  /** The file's bytes. */
  body: Uint8Array;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The directory of the built page, style sheet and ES modules. */
export function uiAssetsDirectory(): string {
  return fileURLToPath(new URL('./browser/', import.meta.url));
}

/**
 * Every file the browser may load (page, styles, scripts), read once; source maps and type
 * declarations are left out.
 */
export function readUiAssets(directory: string = uiAssetsDirectory()): Map<string, UiAsset> {
  const assets = new Map<string, UiAsset>();
  for (const name of readdirSync(directory)) {
    const contentType = name.endsWith('.d.ts') ? undefined : contentTypes[extname(name)];
    if (!contentType || name.includes('.test.')) continue;
    assets.set(name, { name, contentType, body: readFileSync(directory + name) });
  }
  return assets;
}

/**
 * The Content-Security-Policy of the browser's pages: everything from the server itself, nothing
 * inline, no other origin.
 */
export const uiContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
