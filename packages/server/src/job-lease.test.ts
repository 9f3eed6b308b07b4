import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJobLeases, createSqliteLeaseBackend, type JobLeases } from './job-lease.js';

describe('job leases in a SQLite file', () => {
  let directory: string;
  const open: JobLeases[] = [];
  // Two connections to one file, as two worker processes have.
  const leasesOf = (leaseMs = 60_000) => {
    const leases = createJobLeases({
      kind: 'sqlite',
      backend: createSqliteLeaseBackend(join(directory, 'leases.db')),
      leaseMs,
    });
    open.push(leases);
    return leases;
  };

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'engram-lease-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((leases) => leases.close()));
    await rm(directory, { recursive: true, force: true });
  });

  it('runs a job once per interval whoever asks, and skips while another holds it', async () => {
    const [first, second] = [leasesOf(), leasesOf()];
    let release: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      release = resolve;
    });
    const firstRun = first.runDue('dedupe', { everyMs: 60_000 }, () => running);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await second.runDue('dedupe', { everyMs: 60_000 }, async () => {})).toBe('held');
    release();
    expect(await firstRun).toBe('ran');
    expect(await second.runDue('dedupe', { everyMs: 60_000 }, async () => {})).toBe('not due');
    expect(await second.runDue('dedupe', { everyMs: 0 }, async () => {})).toBe('ran');
    // Other jobs have their own leases and intervals.
    expect(await second.runDue('expiry', { everyMs: 60_000 }, async () => {})).toBe('ran');
  });

  it('a run that throws counts as run; the first run can wait one interval', async () => {
    const leases = leasesOf();
    await expect(
      leases.runDue('backup', { everyMs: 60_000 }, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await leases.runDue('backup', { everyMs: 60_000 }, async () => {})).toBe('not due');
    const waits = { everyMs: 60_000, firstAfterInterval: true };
    expect(await leases.runDue('other', waits, async () => {})).toBe('not due');
    expect(await leases.runDue('other', { everyMs: 0 }, async () => {})).toBe('ran');
  });

  it('takes over the lease of a holder that stopped renewing it', async () => {
    const backend = createSqliteLeaseBackend(join(directory, 'leases.db'));
    // A holder that died: it took the lease and will never renew or release it.
    expect(await backend.tryAcquire('dedupe', 'dead-worker', 300)).toBe(true);
    await backend.close();
    const alive = leasesOf();
    expect(await alive.runDue('dedupe', { everyMs: 60_000 }, async () => {})).toBe('held');
    let outcome = 'held';
    for (let poll = 0; poll < 200 && outcome === 'held'; poll++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      outcome = await alive.runDue('dedupe', { everyMs: 60_000 }, async () => {});
    }
    expect(outcome).toBe('ran');
  });

  it('renews the lease while a long job runs', async () => {
    const [holder, other] = [leasesOf(1000), leasesOf(1000)];
    const seen: string[] = [];
    await holder.runDue('reembed', { everyMs: 60_000 }, async () => {
      // Several lease lengths: without renewal the other would take it.
      for (let check = 0; check < 5; check++) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        seen.push(await other.runDue('reembed', { everyMs: 60_000 }, async () => {}));
      }
    });
    expect(seen).toEqual(['held', 'held', 'held', 'held', 'held']);
  });
});
