import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { SqliteDatabase } from '../../src/memory/sqlite.js';
import { SyncLeases, type LeaseHolder } from '../../src/sentry/sync/lease.js';
import type { SyncSummary } from '../../src/sentry/sync/sync.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/runtime.js';

const CONNECTION = 'sentry:org:acme';

function summary(requests: number): SyncSummary {
  return { organization: 'acme', streams: { projects: { pages: 1, items: 3 } }, requests, retries: 0, rateLimited: 0, rateLimitWaitMs: 0, durationMs: 5 };
}

/** Two processes' views of one memory: separate SQLite connections to one file. */
function twoConnections(options: ConstructorParameters<typeof SyncLeases>[2] = {}) {
  const file = tempDbPath();
  const dbs = [new SqliteDatabase(file.path), new SqliteDatabase(file.path)];
  cleanups.push(() => {
    dbs.forEach((db) => db.close());
    file.cleanup();
  });
  return dbs.map((db) => new SyncLeases(db, DEFAULT_WORKSPACE, { pollMs: 5, ...options })) as [SyncLeases, SyncLeases];
}

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('sync leases', () => {
  it('one holder per connection; another connection is independent', () => {
    const [a, b] = twoConnections();
    const first = a.tryAcquire(CONNECTION);
    expect('lease' in first).toBe(true);
    const second = b.tryAcquire(CONNECTION);
    expect(second).toEqual({ busy: { runId: expect.any(String), pid: process.pid, host: expect.any(String), startedAt: expect.any(String) } });
    expect('lease' in b.tryAcquire('sentry:org:other')).toBe(true);
  });

  it('a waiting sync follows the running one and reports its summary', async () => {
    const [a, b] = twoConnections();
    const held = a.tryAcquire(CONNECTION);
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
    expect('lease' in a.tryAcquire(CONNECTION)).toBe(true);
  });

  it('when the followed sync fails, the waiting one takes the lease and runs', async () => {
    const [a, b] = twoConnections();
    const held = a.tryAcquire(CONNECTION);
    if (!('lease' in held)) throw new Error('expected the lease');
    const follower = b.acquireOrFollow(CONNECTION, () => {});
    await expect(held.lease.run(() => Promise.reject(new Error('Sentry is down')))).rejects.toThrow('Sentry is down');
    const outcome = await follower;
    expect('lease' in outcome).toBe(true);
  });

  it('a holder that stops renewing loses the lease once it expires, and cannot touch its successor', async () => {
    let now = 1_000_000;
    const [a, b] = twoConnections({ ttlMs: 30_000, now: () => now });
    const stale = a.tryAcquire(CONNECTION);
    if (!('lease' in stale)) throw new Error('expected the lease');
    now += 29_000;
    expect('busy' in b.tryAcquire(CONNECTION)).toBe(true);
    now += 2_000;
    const successor = b.tryAcquire(CONNECTION);
    if (!('lease' in successor)) throw new Error('expected the expired lease to be taken');
    // The stale holder wakes up and finishes: the successor still holds the lease.
    await stale.lease.run(async () => summary(1));
    expect(a.tryAcquire(CONNECTION)).toEqual({ busy: expect.objectContaining({ runId: successor.lease.runId }) });
  });

  it('a lease whose process died on this host is free at once', () => {
    const file = tempDbPath();
    cleanups.push(file.cleanup);
    // A child process takes the lease and exits without releasing it, like a sync killed with -9.
    const script = `
      import { SqliteDatabase } from './src/memory/sqlite.ts';
      import { SyncLeases } from './src/sentry/sync/lease.ts';
      const db = new SqliteDatabase(${JSON.stringify(file.path)});
      const claim = new SyncLeases(db, 'default').tryAcquire(${JSON.stringify(CONNECTION)});
      process.stdout.write(String('lease' in claim));
      process.exit(0);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    expect(child.stdout, child.stderr).toBe('true');
    const db = new SqliteDatabase(file.path);
    cleanups.push(() => db.close());
    expect('lease' in new SyncLeases(db, DEFAULT_WORKSPACE).tryAcquire(CONNECTION)).toBe(true);
  });
});
