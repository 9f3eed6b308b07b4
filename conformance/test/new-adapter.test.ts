import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'new-adapter.mjs');
const root = mkdtempSync(join(tmpdir(), 'engram-new-adapter-'));
mkdirSync(join(root, '.changeset'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pnpm new-adapter', () => {
  it('creates the package, its service folder and its changeset', () => {
    execFileSync('node', [script, 'acme-db', '--native', '--root', root]);
    for (const file of [
      'adapters/acme-db/package.json',
      'adapters/acme-db/src/acme-db-adapter.ts',
      'adapters/acme-db/src/acme-db-vector-store.ts',
      'adapters/acme-db/src/acme-db-filter.ts',
      'adapters/acme-db/src/acme-db-filter.test.ts',
      'adapters/acme-db/test/acme-db.conformance.test.ts',
      'adapters/acme-db/test/global-setup.ts',
      'adapters/acme-db/vitest.conformance.config.ts',
      'conformance/services/acme-db/service.json',
      'conformance/services/acme-db/Dockerfile',
      'conformance/services/acme-db/launcher.sh',
      '.changeset/acme-db-adapter.md',
    ]) {
      expect(existsSync(join(root, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'adapters/acme-db/package.json'), 'utf8'));
    expect(manifest.name).toBe('@engram/acme-db');
    expect(manifest.scripts['test:conformance']).toContain('vitest.conformance.config.ts');
    expect(manifest.dependencies).toEqual({ '@engram/adapter-kit': 'workspace:^' });
    const index = readFileSync(join(root, 'adapters/acme-db/src/index.ts'), 'utf8');
    expect(index).toContain('createAcmeDbVectorStore');
    expect(index).toContain('engramAdapter');
    expect(
      readFileSync(join(root, 'adapters/acme-db/src/acme-db-vector-store.ts'), 'utf8'),
    ).toContain('defineVectorStore');
    expect(readFileSync(join(root, 'conformance/services/acme-db/launcher.sh'), 'utf8')).toContain(
      '../lib.sh',
    );
    const service = JSON.parse(
      readFileSync(join(root, 'conformance/services/acme-db/service.json'), 'utf8'),
    );
    expect(service).toMatchObject({ envVar: 'ACME_DB_URL', nativeLauncher: true });
  });

  it('refuses bad names and existing adapters with a usage message', () => {
    const bad = spawnSync('node', [script, 'Bad Name', '--root', root], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('Usage: pnpm new-adapter');
    const again = spawnSync('node', [script, 'acme-db', '--root', root], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('already exists');
  });
});
