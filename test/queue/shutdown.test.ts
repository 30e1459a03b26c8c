import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { postDelivery, prepareDeliveries } from '../helpers/deliveries.js';
import { column, createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { SECRET } from '../helpers/runtime.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.cleanup();
});

/** The exit of `child`, or a failure once `timeoutMs` has passed without one. */
function exitWithin(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve did not exit within ${timeoutMs} ms of SIGTERM`)),
      timeoutMs,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

describe('SIGTERM', () => {
  it('stops accepting, finishes what it has, exits 0 within a few seconds, and loses nothing it acknowledged', async () => {
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    const deliveries = prepareDeliveries(3000, SECRET);
    const serve = await startServe(['--db', db.location, '--sync-interval', 'off'], env);
    // A sender that stalls halfway through its body must not keep the server from exiting.
    const { port } = new URL(serve.url);
    const stalled = connect(Number(port), '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write(
      'POST /webhooks/sentry HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"action":',
    );
    const acknowledged = new Set<string>();
    const answersAfterTerm = new Set<number | null>();
    let next = 0;
    let exited = false;
    let terminated: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
    // Sentry's side: 16 deliveries in flight until every one is sent or the server is gone.
    const senders = Array.from({ length: 16 }, async () => {
      while (next < deliveries.length && !exited) {
        const delivery = deliveries[next++];
        const sentAfterTerm = terminated !== null;
        const status = await postDelivery(serve.url, delivery);
        if (status === 200) acknowledged.add(delivery.headers['request-id']);
        if (sentAfterTerm) answersAfterTerm.add(status);
        if (acknowledged.size >= 300 && !terminated) {
          terminated = exitWithin(serve.child, 10_000);
          serve.child.kill('SIGTERM');
        }
      }
    });
    serve.child.once('exit', () => (exited = true));
    await Promise.all(senders);
    expect(terminated).not.toBeNull();
    expect(await terminated!).toEqual({ code: 0, signal: null });
    stalled.destroy();
    expect(serve.output()).not.toMatch(/"level":(50|60)/);
    // It stopped accepting: deliveries sent while it shut down were turned away (503, or refused once closed).
    expect([...answersAfterTerm].some((status) => status === 503 || status === null)).toBe(true);

    const store = await MemoryStore.open(db.location);
    const stored = new Set(await column<string>(store.db, 'SELECT delivery_id FROM inbox'));
    await store.close();
    expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);

    const restarted = await startServe(['--db', db.location, '--sync-interval', 'off'], env);
    try {
      const counts = await waitFor('the restarted worker to drain the inbox', async () => {
        const { inbox } = (await (await fetch(`${restarted.url}/healthz`)).json()) as { inbox: Record<string, number> };
        return inbox.pending === 0 ? inbox : undefined;
      });
      expect(counts).toEqual({ pending: 0, processed: stored.size, skipped: 0, dead: 0, held: 0 });
    } finally {
      restarted.child.kill('SIGTERM');
      await waitForExit(restarted.child);
    }
    const after = await MemoryStore.open(db.location);
    expect((await new Inbox(after.db).countsByState(DEFAULT_WORKSPACE)).processed).toBeGreaterThanOrEqual(
      acknowledged.size,
    );
    await after.close();
  });
});
