import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { prepareDeliveries, type PreparedDelivery } from '../helpers/deliveries.js';
import { column, createTestDatabase, execute, TEST_ENGINE } from '../helpers/database.js';
import { SECRET } from '../helpers/runtime.js';

const env = { SENTRY_CLIENT_SECRET: SECRET };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Answer {
  requestId: string;
  status: number;
  retryAfter: string | null;
  body: { ok: boolean; duplicate?: boolean; error?: string };
}

/** Sends every delivery at once, as Sentry does when many events happen together. */
function sendAll(url: string, deliveries: PreparedDelivery[]): Promise<Answer[]> {
  return Promise.all(
    deliveries.map(async (delivery) => {
      const response = await fetch(`${url}/webhooks/sentry`, {
        method: 'POST',
        body: new Uint8Array(delivery.body),
        headers: delivery.headers,
      });
      return {
        requestId: delivery.headers['request-id'],
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.json(),
      };
    }),
  );
}

async function storedIds(location: string): Promise<string[]> {
  const store = await MemoryStore.open(location);
  try {
    // Sorted here, not in SQL, to compare with a JavaScript sort whatever the engine's collation.
    return (await column<string>(store.db, 'SELECT delivery_id FROM inbox')).sort();
  } finally {
    await store.close();
  }
}

/**
 * Another process's writer takes the inbox's write lock and keeps it until the returned function is
 * called: on SQLite the database's write lock (BEGIN IMMEDIATE), on PostgreSQL the inbox table's
 * strongest lock. The transaction writes nothing.
 */
async function holdWriteLock(database: MemoryDatabase): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: () => void;
  const locked = new Promise<void>((resolve) => (held = resolve));
  const transaction = database.transaction(async (tx) => {
    if (tx.engine === 'postgres') await execute(tx, 'LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE');
    held();
    await released;
  });
  await Promise.race([locked, transaction]);
  return async () => {
    release();
    await transaction;
  };
}

/**
 * What both faults must look like from outside: every refusal is a 503 with Retry-After and a reason,
 * the server logged it at error level, and exactly the acknowledged deliveries are in the inbox.
 */
async function expectRefusedAndLogged(answers: Answer[], reason: string, location: string, output: string) {
  const refused = answers.filter((a) => a.status !== 200);
  expect(refused.length).toBeGreaterThan(0);
  for (const answer of refused) {
    expect(answer).toMatchObject({
      status: 503,
      retryAfter: '10',
      body: { ok: false, error: `could not store the delivery (${reason}); retry later` },
    });
  }
  const errorLines = output
    .split('\n')
    .filter((line) => line.includes('"level":50') && line.includes('webhook delivery NOT stored'));
  expect(errorLines.length).toBeGreaterThan(0);
  expect(output).not.toContain(SECRET);
  const acknowledged = answers.filter((a) => a.status === 200).map((a) => a.requestId);
  expect(await storedIds(location)).toEqual(acknowledged.sort());
}

describe('the webhook route when the inbox cannot be written', () => {
  // SQLite only: PostgreSQL has no busy timeout (--busy-timeout is SQLite's); its form of this fault is the next test.
  it.skipIf(TEST_ENGINE === 'postgres')(
    'the database is locked past its busy timeout: 503 for the whole batch, logged, and 200 again once the lock is released',
    async () => {
      const db = await createTestDatabase();
      cleanups.push(db.cleanup);
      const serve = await startServe(['--db', db.location, '--busy-timeout', '200', '--sync-interval', 'off'], env);
      cleanups.push(() => serve.child.kill('SIGKILL'));
      // Another process's writer holds the write lock and does not let go.
      const holder = await MemoryStore.open(db.location, { busyTimeoutMs: 0 });
      const release = await holdWriteLock(holder.db);
      const deliveries = prepareDeliveries(24, SECRET);
      const answers = await sendAll(serve.url, deliveries);
      expect(answers.every((a) => a.status === 503)).toBe(true);
      await release();
      await holder.close();
      await expectRefusedAndLogged(answers, 'database busy', db.location, serve.output());

      // Sentry retries: now everything is stored, once.
      const retried = await sendAll(serve.url, deliveries);
      expect(retried.map((a) => [a.status, a.body])).toEqual(
        deliveries.map(() => [200, { ok: true, duplicate: false }]),
      );
      expect(await storedIds(db.location)).toEqual(deliveries.map((d) => d.headers['request-id']).sort());
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      expect(serve.child.exitCode).toBe(0);
    },
  );

  it.runIf(TEST_ENGINE === 'postgres')(
    'the inbox table is locked by another transaction: nothing is acknowledged before it is stored, and every delivery is stored once after the lock is released',
    async () => {
      const db = await createTestDatabase();
      cleanups.push(db.cleanup);
      const serve = await startServe(['--db', db.location, '--sync-interval', 'off'], env);
      cleanups.push(() => serve.child.kill('SIGKILL'));
      const holder = await MemoryStore.open(db.location);
      cleanups.push(() => holder.close());
      const release = await holdWriteLock(holder.db);
      cleanups.push(release);
      const deliveries = prepareDeliveries(24, SECRET);
      const answered: Answer[] = [];
      // Every delivery at once, each answer noted as it comes.
      const sending = Promise.all(
        deliveries.map((delivery) => sendAll(serve.url, [delivery]).then(([answer]) => answered.push(answer))),
      );
      // PostgreSQL has no busy timeout: a blocked write waits. Whatever the server does meanwhile, it must not acknowledge.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const acknowledgedWhileLocked = answered.filter((a) => a.status === 200);
      await release();
      await sending;
      expect(acknowledgedWhileLocked).toEqual([]);
      // A refusal, if any, is a 503 that asks Sentry to retry; and exactly the acknowledged deliveries are stored.
      const refused = deliveries.filter(
        (d) => answered.find((a) => a.requestId === d.headers['request-id'])!.status !== 200,
      );
      for (const answer of answered.filter((a) => a.status !== 200))
        expect(answer).toMatchObject({ status: 503, retryAfter: '10', body: { ok: false } });
      expect(await storedIds(db.location)).toEqual(
        answered
          .filter((a) => a.status === 200)
          .map((a) => a.requestId)
          .sort(),
      );

      // Sentry retries what was refused: now everything is stored, once.
      const retried = await sendAll(serve.url, refused);
      expect(retried.map((a) => [a.status, a.body])).toEqual(refused.map(() => [200, { ok: true, duplicate: false }]));
      expect(await storedIds(db.location)).toEqual(deliveries.map((d) => d.headers['request-id']).sort());
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      expect(serve.child.exitCode).toBe(0);
    },
  );

  // SQLite only: a PostgreSQL database lives on its server's disk, which a test cannot fill.
  it.skipIf(TEST_ENGINE === 'postgres')(
    'the disk is full (a small tmpfs filled up): 503, logged, nothing acknowledged that is not stored, and 200 again once space is freed',
    async (ctx) => {
      const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-full-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
      } catch (error) {
        ctx.skip(
          `needs to mount a small tmpfs (root, mount permitted): ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`,
        );
        return;
      }
      cleanups.push(() => execFileSync('umount', ['-l', dir]));
      const dbPath = join(dir, 'memory.db');
      const serve = await startServe(['--db', dbPath, '--sync-interval', 'off'], env);
      cleanups.push(() => serve.child.kill('SIGKILL'));

      // Fill every free block, so the next append to the write-ahead log hits ENOSPC.
      const filler = join(dir, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(16 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }

      const deliveries = prepareDeliveries(40, SECRET);
      const answers = await sendAll(serve.url, deliveries);
      await expectRefusedAndLogged(answers, 'disk full', dbPath, serve.output());

      unlinkSync(filler);
      const refused = deliveries.filter(
        (d) => answers.find((a) => a.requestId === d.headers['request-id'])!.status !== 200,
      );
      const retried = await sendAll(serve.url, refused);
      expect(retried.map((a) => [a.status, a.body])).toEqual(refused.map(() => [200, { ok: true, duplicate: false }]));
      expect(await storedIds(dbPath)).toEqual(deliveries.map((d) => d.headers['request-id']).sort());
      // The process survived its worker's failed batches too, and drains the inbox.
      const drained = await waitFor('the worker to drain the inbox once space is back', async () => {
        const { inbox } = (await (await fetch(`${serve.url}/healthz`)).json()) as { inbox: Record<string, number> };
        return inbox.pending === 0 ? inbox : undefined;
      });
      expect(drained).toEqual({ pending: 0, processed: deliveries.length, skipped: 0, dead: 0, held: 0 });
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      expect(serve.child.exitCode).toBe(0);
    },
  );
});
