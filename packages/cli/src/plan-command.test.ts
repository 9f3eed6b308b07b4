import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

async function plan(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['plan', ...argv], {
    stdout: {
      write: (chunk) => {
        stdout += chunk;
        return true;
      },
    },
    stderr: {
      write: (chunk) => {
        stderr += chunk;
        return true;
      },
    },
    env: {},
  });
  return { code, stdout, stderr };
}

describe('engram plan', () => {
  it('prints the deployment with the figure each line rests on', async () => {
    const result = await plan([
      '--memories',
      '1M',
      '--adds-per-day',
      '50k',
      '--searches-per-second',
      '100',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Deployment for 1M memories of 10k users');
    expect(result.stdout).toContain('api: cores for searches');
    expect(result.stdout).toMatch(/from service-searches-per-second = .*pnpm bench service/);
    expect(result.stdout).toContain('cost: models per month');
  });

  it('answers JSON for tooling, from users and memories per user', async () => {
    const result = await plan([
      '--json',
      '--users',
      '10k',
      '--memories-per-user',
      '200',
      '--backend',
      'pgvector',
      '--searches-per-second',
      '500',
    ]);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.workload).toMatchObject({
      memories: 2_000_000,
      users: 10_000,
      backend: 'pgvector',
    });
    expect(parsed.totals.apiReplicas).toBeGreaterThanOrEqual(2);
    expect(Array.isArray(parsed.warnings)).toBe(true);
  });

  it('says what to give when the size is missing or malformed', async () => {
    const missing = await plan([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Give --memories (e.g. 1M)');
    const malformed = await plan(['--memories', 'lots']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(
      '--memories must be a number such as 500, 10k or 1M, got "lots"',
    );
    const prices = await plan(['--memories', '1k', '--prices', '/nonexistent/prices.json']);
    expect(prices.code).toBe(2);
    expect(prices.stderr).toContain('--prices /nonexistent/prices.json: cannot read it as JSON');
  });
});
