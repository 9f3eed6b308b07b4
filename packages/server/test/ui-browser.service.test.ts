import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FakeOpenAIServer, startFakeOpenAI } from '@engram/fake-openai';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphChat, graphServerEnvironment, type RelationsByMessage } from './graph-chat.js';
import {
  createKey,
  type EngramServer,
  startEngramServer,
  temporaryDataDir,
} from './service-harness.js';

// The memory browser in Debian's chromium, against a real `serve` with graph memory on (Kuzu)
// and a scripted OpenAI-compatible model. Screenshots go to docs/images for the README.

const chromiumScript = fileURLToPath(new URL('../scripts/chromium.sh', import.meta.url));
const imagesDirectory = fileURLToPath(new URL('../../../docs/images/', import.meta.url));

function findChromium(): { path: string } | { reason: string } {
  try {
    const path = execFileSync('bash', [chromiumScript], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    return { path };
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    return { reason: `no chromium for the browser tests: ${stderr || String(error)}` };
  }
}

const relationsByMessage: RelationsByMessage = {
  'I work at Acme': [['alice', 'works_at', 'acme']],
  'I live in Oslo': [['alice', 'lives_in', 'oslo']],
  'I moved to Bergen': [['alice', 'lives_in', 'bergen']],
  'My sister Eva lives in Oslo': [
    ['alice', 'sister_of', 'eva'],
    ['eva', 'lives_in', 'oslo'],
  ],
};

const found = findChromium();
if (!('path' in found)) console.warn(`memory browser tests skipped: ${found.reason}`);
let fake: FakeOpenAIServer;
let server: EngramServer;
let dataDir: { path: string; dispose(): Promise<void> };
let keys: { alpha: string; beta: string };
let browser: Browser | undefined;

async function api(path: string, key: string, body?: unknown, method = 'POST') {
  const answer = await server.request(path, { method, key, body });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  if (!('path' in found)) return;
  // Alice moving outdates where she lived; Eva living in Oslo outdates nothing.
  const chat = createGraphChat(
    relationsByMessage,
    (existing, added) => added.includes('alice lives_in') && existing.startsWith('alice lives_in'),
  );
  fake = await startFakeOpenAI({ chat });
  dataDir = await temporaryDataDir();
  keys = {
    alpha: createKey(dataDir.path, 'alpha').key,
    beta: createKey(dataDir.path, 'beta').key,
  };
  server = await startEngramServer(dataDir.path, {
    env: {
      ...graphServerEnvironment(fake.url),
      ENGRAM_RATE_LIMIT_RPS: '100000',
      ENGRAM_RATE_LIMIT_BURST: '100000',
    },
  });
  for (const message of [
    'I work at Acme',
    'I live in Oslo',
    'I moved to Bergen',
    'My sister Eva lives in Oslo',
  ]) {
    await api('/v1/memories', keys.alpha, { messages: message, userId: 'alice' });
  }
  await api('/v1/memories', keys.alpha, {
    messages: 'Loves spicy ramen',
    userId: 'alice',
    infer: false,
    metadata: { topic: 'food' },
  });
  await api('/v1/memories', keys.alpha, {
    messages: 'Allergic to peanuts',
    userId: 'alice',
    agentId: 'chef',
    infer: false,
    metadata: { topic: 'food', severity: 3 },
  });
  // A user with 10,000 memories, for the virtualised list.
  for (let batch = 0; batch < 10; batch += 1) {
    await api('/v1/import', keys.alpha, {
      items: Array.from({ length: 1000 }, (_, index) => ({
        userId: 'bulk',
        text: `Bulk memory number ${batch * 1000 + index}`,
        metadata: { batch },
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, batch * 1000 + index)).toISOString(),
      })),
    });
  }
  browser = await chromium.launch({
    executablePath: found.path,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await fake?.close();
  await dataDir?.dispose();
});

/** A page that fails the test on script errors, CSP violations and requests to other origins. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser!.newContext({
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A 401/404 answer the page handles is logged by the browser as a failed load; not a problem.
    if (message.type() === 'error' && !/status of (401|404)/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:')) {
      problems.push(`request to another origin: ${url}`);
    }
  });
  return { page, problems };
}

async function signIn(page: Page, key: string) {
  await page.goto(`${server.url}/ui/`);
  await page.getByLabel('API key or OIDC token').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Users, agents and runs' }).waitFor();
}

async function screenshot(page: Page, name: string) {
  mkdirSync(imagesDirectory, { recursive: true });
  await page.screenshot({ path: `${imagesDirectory}ui-${name}.png`, fullPage: false });
}

describe('memory browser in chromium', () => {
  it('serves the page with its content types, caching headers and a strict CSP', async (context) => {
    if (!('path' in found)) return context.skip(found.reason);
    const page = await fetch(`${server.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = page.headers.get('etag')!;
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${server.url}/ui/`, { headers: { 'If-None-Match': etag } })).status).toBe(
      304,
    );
    const script = await fetch(`${server.url}/ui/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${server.url}/ui/ui.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    expect((await fetch(`${server.url}/ui/app.js.map`)).status).toBe(404);
    expect((await fetch(`${server.url}/ui/../package.json`)).status).toBe(404);
    const redirect = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('/ui/');
  });

  it('signs in, finds, searches, explains, edits, deletes and exports; another project sees nothing', async (context) => {
    if (!('path' in found)) return context.skip(found.reason);
    const { page, problems } = await openPage();

    await page.goto(`${server.url}/ui/`);
    await page.getByLabel('API key or OIDC token').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await screenshot(page, 'sign-in');

    await signIn(page, keys.alpha);
    const users = page.getByRole('region', { name: 'Users' });
    await expect.poll(() => users.getByRole('row', { name: /alice/ }).textContent()).toContain('6');
    await expect
      .poll(() => users.getByRole('row', { name: /bulk/ }).textContent())
      .toContain('10,000');
    await screenshot(page, 'scopes');

    // The user's memories, filtered by metadata.
    await users.getByRole('link', { name: 'alice', exact: true }).click();
    await page.getByText('Loves spicy ramen').waitFor();
    await page.getByText('I moved to Bergen').waitFor();
    await page.getByLabel('Metadata filter').fill('topic=food');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.locator('#memory-count').textContent()).toBe('2 memories');
    await page.getByText('Allergic to peanuts').waitFor();
    await screenshot(page, 'memories');

    // 10,000 memories: a few dozen rows in the page, the last reachable by scrolling and keys.
    const loading = performance.now();
    await page.goto(`${server.url}/ui/#/memories?userId=bulk&order=created-asc`);
    await expect
      .poll(() => page.locator('#memory-count').textContent(), { timeout: 60_000 })
      .toBe('10,000 memories');
    const loaded = performance.now() - loading;
    expect(await page.locator('.row').count()).toBeLessThan(60);
    // Reported, not asserted (the machine may be loaded): what drawing the rows of a scroll
    // position costs, script and layout, and when the next frame shows them.
    const [draws, frames] = await page.evaluate<[number[], number[]]>(`(async () => {
      const list = document.querySelector('.virtual-list');
      const draws = [];
      const frames = [];
      for (let step = 1; step <= 40; step += 1) {
        let started = performance.now();
        list.scrollTop = (list.scrollHeight * step) / 41;
        list.dispatchEvent(new Event('scroll'));
        list.querySelector('.row')?.getBoundingClientRect();
        draws.push(performance.now() - started);
        started = performance.now();
        list.scrollTop = (list.scrollHeight * (step + 0.5)) / 41;
        await new Promise((resolve) => requestAnimationFrame(resolve));
        frames.push(performance.now() - started);
      }
      list.scrollTop = 0;
      return [draws, frames];
    })()`);
    const median = (values: number[]) => values.sort((left, right) => left - right)[20]!;
    console.info(
      `10,000 memories: listed in ${Math.round(loaded)} ms; drawing a scroll position takes ${median(draws).toFixed(1)} ms (median of 40), the next frame comes after ${median(frames).toFixed(1)} ms`,
    );
    await page.locator('.virtual-list').evaluate((list) => {
      list.scrollTop = list.scrollHeight;
    });
    await page.getByText('Bulk memory number 9999', { exact: true }).waitFor();
    expect(await page.locator('.row').count()).toBeLessThan(60);
    await page.getByRole('link', { name: /^Bulk memory number 9999\b/ }).focus();
    await page.keyboard.press('Home');
    await page.getByText('Bulk memory number 0', { exact: true }).waitFor();
    expect(
      await page.evaluate<string | undefined>('document.activeElement?.textContent'),
    ).toContain('Bulk memory number 0');
    await page.keyboard.press('ArrowDown');
    expect(
      await page.evaluate<string | undefined>('document.activeElement?.textContent'),
    ).toContain('Bulk memory number 1');

    // "/" goes to search; results come with the fused score explained.
    await page.locator('main h2').click();
    await page.keyboard.press('/');
    await expect
      .poll(() => page.evaluate<string | undefined>('document.activeElement?.id'))
      .toBe('search-query');
    await page.keyboard.type('spicy ramen');
    await page.getByLabel('User').fill('alice');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('#search-summary').textContent()).toMatch(/results? for/);
    const first = page.locator('.result').first();
    await first.getByText('Loves spicy ramen').waitFor();
    const explanation = await first.locator('table.explain').textContent();
    expect(explanation).toContain('vector');
    expect(explanation).toContain('keyword');
    await screenshot(page, 'search');

    // History, edit, delete with erase.
    await first.getByRole('link', { name: 'Loves spicy ramen' }).click();
    await page.getByRole('heading', { name: 'Memory', exact: true }).waitFor();
    await page.getByLabel('Text', { exact: true }).fill('Loves spicy ramen and dumplings');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => page.locator('#memory-text').textContent())
      .toBe('Loves spicy ramen and dumplings');
    const timeline = page.getByRole('list', { name: 'History, oldest first' });
    await expect.poll(() => timeline.locator('li').count()).toBe(2);
    expect(await timeline.locator('li').nth(1).textContent()).toMatch(
      /UPDATE.*Before.*Loves spicy ramen.*After.*Loves spicy ramen and dumplings/s,
    );
    await screenshot(page, 'history');
    const memoryUrl = page.url();
    await page.getByLabel('Also erase the texts of its history').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('button', { name: 'Delete for good' }).click();
    await page.getByRole('heading', { name: 'Memory deleted' }).waitFor();
    await expect.poll(() => timeline.locator('li').count()).toBe(3);
    expect(await timeline.textContent()).not.toContain('dumplings');
    expect(await timeline.locator('li').nth(2).textContent()).toContain('DELETE');

    // The graph: relations drawn in SVG, the contradicted one greyed.
    await page.goto(`${server.url}/ui/#/graph?userId=alice`);
    await page.locator('svg.graph').waitFor();
    expect(await page.locator('svg.graph .edge').count()).toBe(5);
    expect(await page.locator('svg.graph .edge.invalid').count()).toBe(1);
    expect(await page.locator('tr.invalid').textContent()).toContain('oslo');
    await screenshot(page, 'graph');

    // Export of the user's memories.
    await page.goto(`${server.url}/ui/#/memories?userId=alice`);
    await page.getByText('I moved to Bergen').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSONL' }).click(),
    ]);
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.map((line) => (JSON.parse(line) as { userId: string }).userId)).toEqual(
      Array(5).fill('alice'),
    );

    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage of project alpha' }).waitFor();
    expect(await page.getByRole('row', { name: /^Searches/ }).textContent()).toMatch(/[1-9]/);
    expect(await page.getByRole('row', { name: /^Adds/ }).textContent()).toContain('6');
    await screenshot(page, 'usage');

    // Another project's key: nothing of alpha's.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, keys.beta);
    await expect
      .poll(() => page.locator('main').textContent())
      .toContain('0 memories in project beta');
    expect(await page.locator('main').textContent()).not.toContain('alice');
    await page.goto(`${server.url}/ui/#/memories?userId=alice`);
    await expect.poll(() => page.locator('#memory-count').textContent()).toBe('0 memories');
    await page.goto(memoryUrl);
    await page.getByRole('heading', { name: 'No such memory' }).waitFor();
    expect(await page.getByText('No recorded changes.').count()).toBe(1);

    expect(problems).toEqual([]);
  });
});
