import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { launcherUnavailableReason, launcherUnavailableStatus } from '../src/services.js';

async function failureOf(script: string): Promise<unknown> {
  try {
    await promisify(execFile)('bash', ['-c', script]);
  } catch (error) {
    return error;
  }
  throw new Error('the script did not fail');
}

it('a launcher exiting with the unavailable status gives its last logged line as the reason', async () => {
  const error = await failureOf(
    `echo '[demo] building' >&2; echo '[demo] no binary: build it once' >&2; exit ${launcherUnavailableStatus}`,
  );
  expect(launcherUnavailableReason(error)).toBe('no binary: build it once');
});

it('any other launcher failure is not an unavailable server', async () => {
  expect(launcherUnavailableReason(await failureOf("echo '[demo] crashed' >&2; exit 1"))).toBe(
    undefined,
  );
});
