import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { startServe, startWorker, waitFor, waitForExit } from '../helpers/cli.js';
import { crashFreeSnapshot, prepareDeliveries, sendConcurrently } from '../helpers/deliveries.js';
import { createTestDatabase, scalar, type TestDatabase } from '../helpers/database.js';
import { SECRET } from '../helpers/runtime.js';
import { memorySnapshot } from '../helpers/sync.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.cleanup();
});

describe('serve --role', () => {
  it('one web process acknowledges, two worker processes share the inbox: each delivery is applied once, and memory equals one process', async () => {
    const deliveries = prepareDeliveries(1200, SECRET);
    const expected = await crashFreeSnapshot(deliveries);
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    const args = ['--db', db.location, '--sync-interval', 'off', '--replay-tolerance', '3600'];
    const web = await startServe([...args, '--role', 'web'], env);
    const workers = [await startWorker(args, env), await startWorker(args, env)];
    try {
      const acknowledged = await sendConcurrently(web.url, deliveries);
      expect(acknowledged).toHaveLength(deliveries.length);
      const store = await MemoryStore.open(db.location);
      const inbox = new Inbox(store.db);
      try {
        await waitFor(
          'the workers to drain the inbox',
          async () => ((await inbox.countsByState(DEFAULT_WORKSPACE)).pending === 0 ? true : undefined),
          60_000,
        );
        expect(await inbox.countsByState(DEFAULT_WORKSPACE)).toEqual({
          pending: 0,
          processed: deliveries.length,
          skipped: 0,
          dead: 0,
          held: 0,
        });
        // Settling counts an attempt: a delivery two workers both applied would show 2.
        expect(await scalar(store.db, 'SELECT count(*) FROM inbox WHERE attempts <> 1')).toBe(0);
        expect(await memorySnapshot(store.db)).toEqual(expected);
      } finally {
        await store.close();
      }
      // The web process processed nothing itself, and serves no worker; the workers answer no HTTP.
      expect(web.output()).not.toMatch(/is processing/);
      for (const worker of workers) expect(worker.output()).not.toMatch(/Server listening/);
    } finally {
      for (const p of [web, ...workers]) p.child.kill('SIGTERM');
      await Promise.all([web, ...workers].map((p) => waitForExit(p.child)));
    }
  }, 120_000);
});
