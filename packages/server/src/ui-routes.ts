import { createHash } from 'node:crypto';
import { readUiAssets, type UiAsset, uiContentSecurityPolicy } from '@engram/ui';
import type { Context, Hono } from 'hono';
import type { AppEnv } from './app-context.js';

interface ServedAsset extends UiAsset {
  etag: string;
}

const securityHeaders = {
  'Content-Security-Policy': uiContentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Serves the memory browser (`@engram/ui`) at `/ui/`: its page, style sheet and ES modules with
 * their content types, a strict Content-Security-Policy (this origin only, nothing inline) and
 * ETags, revalidated on every load so an upgraded server is seen at once. The browser calls the
 * `/v1` API with the key the user signs in with; these files themselves need none.
 */
export function registerUiRoutes(
  app: Hono<AppEnv>,
  load: () => Map<string, UiAsset> = readUiAssets,
): void {
  let assets: Map<string, ServedAsset> | undefined;
  const served = () => {
    assets ??= new Map(
      [...load()].map(([name, asset]) => [
        name,
        {
          ...asset,
          etag: `"${createHash('sha256').update(asset.body).digest('base64url').slice(0, 27)}"`,
        },
      ]),
    );
    return assets;
  };
  const answer = (c: Context<AppEnv>, name: string) => {
    const asset = served().get(name);
    if (!asset) {
      return c.json(
        {
          error: {
            code: 'not_found',
            message: `No file ${name} in the memory browser; open /ui/.`,
          },
        },
        404,
      );
    }
    const headers: Record<string, string> = {
      ...securityHeaders,
      'Content-Type': asset.contentType,
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
    };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, headers);
  };
  app.get('/ui', (c) => c.redirect('/ui/', 301));
  app.get('/ui/', (c) => answer(c, 'index.html'));
  app.get('/ui/:name{[A-Za-z0-9_-]+\\.(?:html|css|js|svg)}', (c) => answer(c, c.req.param('name')));
}
