import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { openDatabase } from '../../src/memory/store.js';
import { SyncLeases, type LeaseHolder } from '../../src/sentry/sync/lease.js';
import type { SyncSummary } from '../../src/sentry/sync/sync.js';
import { repoRoot } from '../helpers/cli.js';
import { createTestDatabase, ENGINE_ENV } from '../helpers/database.js';

const CONNECTION = 'sentry:org:acme';

function summary(requests: number): SyncSummary {
  return {
    organization: 'acme',
    streams: { projects: { pages: 1, items: 3 } },
    requests,
    retries: 0,
    rateLimited: 0,
    rateLimitWaitMs: 0,
    durationMs: 5,
  };
}

/** A new test database, dropped after the test. */
async function testDatabase() {
  const database = await createTestDatabase();
  cleanups.push(database.cleanup);
  return database.location;
}

/** Two processes' views of one memory: separate connections (a SQLite file opened twice, two PostgreSQL pools). */
async function twoConnections(options: ConstructorParameters<typeof SyncLeases>[2] = {}) {
  const location = await testDatabase();
  const dbs = [await openDatabase(location), await openDatabase(location)];
  // Closed before the database is dropped (cleanups run last first).
  cleanups.push(async () => {
    for (const db of dbs) await db.close();
  });
  return dbs.map((db) => new SyncLeases(db, DEFAULT_WORKSPACE, { pollMs: 5, ...options })) as [SyncLeases, SyncLeases];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('sync leases', () => {
  it('one holder per connection; another connection is independent', async () => {
    const [a, b] = await twoConnections();
    const first = await a.tryAcquire(CONNECTION);
    expect('lease' in first).toBe(true);
    const second = await b.tryAcquire(CONNECTION);
    expect(second).toEqual({
      busy: { runId: expect.any(String), pid: process.pid, host: expect.any(String), startedAt: expect.any(String) },
    });
    expect('lease' in (await b.tryAcquire('sentry:org:other'))).toBe(true);
  });

  it('a waiting sync follows the running one and reports its summary', async () => {
    const [a, b] = await twoConnections();
    const held = await a.tryAcquire(CONNECTION);
    if (!('lease' in held)) throw new Error('expected the lease');
    let release!: () => void;
    const running = held.lease.run(() => new Promise<SyncSummary>((resolve) => (release = () => resolve(summary(42)))));
    const waits: LeaseHolder[] = [];
    const follower = b.acquireOrFollow(CONNECTION, (holder) => waits.push(holder));
    await new Promise((r) => setTimeout(r, 30));
    expect(waits).toHaveLength(1);
    expect(waits[0].runId).toBe(held.lease.runId);
    release();
    await running;
    const outcome = await follower;
    expect(outcome).toEqual({ followed: { holder: waits[0], finishedAt: expect.any(String), summary: summary(42) } });
    // Following does not hold the lease: the connection is free again.
    expect('lease' in (await a.tryAcquire(CONNECTION))).toBe(true);
  });

  it('when the followed sync fails, the waiting one takes the lease and runs', async () => {
    const [a, b] = await twoConnections();
    const held = await a.tryAcquire(CONNECTION);
    if (!('lease' in held)) throw new Error('expected the lease');
    const follower = b.acquireOrFollow(CONNECTION, () => {});
    await expect(held.lease.run(() => Promise.reject(new Error('Sentry is down')))).rejects.toThrow('Sentry is down');
    const outcome = await follower;
    expect('lease' in outcome).toBe(true);
  });

  it('a holder that stops renewing loses the lease once it expires, and cannot touch its successor', async () => {
    let now = 1_000_000;
    const [a, b] = await twoConnections({ ttlMs: 30_000, now: () => now });
    const stale = await a.tryAcquire(CONNECTION);
    if (!('lease' in stale)) throw new Error('expected the lease');
    now += 29_000;
    expect('busy' in (await b.tryAcquire(CONNECTION))).toBe(true);
    now += 2_000;
    const successor = await b.tryAcquire(CONNECTION);
    if (!('lease' in successor)) throw new Error('expected the expired lease to be taken');
    // The stale holder wakes up and finishes: the successor still holds the lease.
    await stale.lease.run(async () => summary(1));
    expect(await a.tryAcquire(CONNECTION)).toEqual({ busy: expect.objectContaining({ runId: successor.lease.runId }) });
  });

  it('a lease whose process died on this host is free at once', async () => {
    const location = await testDatabase();
    // A child process takes the lease and exits without releasing it, like a sync killed with -9.
    const script = `
      import { openDatabase } from './src/memory/store.ts';
      import { SyncLeases } from './src/sentry/sync/lease.ts';
      const db = await openDatabase(${JSON.stringify(location)});
      const claim = await new SyncLeases(db, 'default').tryAcquire(${JSON.stringify(CONNECTION)});
      process.stdout.write(String('lease' in claim));
      process.exit(0);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { ...process.env, ...ENGINE_ENV },
      encoding: 'utf8',
    });
    expect(child.stdout, child.stderr).toBe('true');
    const db = await openDatabase(location);
    cleanups.push(() => db.close());
    expect('lease' in (await new SyncLeases(db, DEFAULT_WORKSPACE).tryAcquire(CONNECTION))).toBe(true);
  });
});
