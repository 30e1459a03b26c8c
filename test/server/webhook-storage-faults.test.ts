import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { prepareDeliveries, type PreparedDelivery } from '../helpers/deliveries.js';
import { SECRET, tempDbPath } from '../helpers/runtime.js';

const env = { SENTRY_CLIENT_SECRET: SECRET };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
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
      const response = await fetch(`${url}/webhooks/sentry`, { method: 'POST', body: new Uint8Array(delivery.body), headers: delivery.headers });
      return { requestId: delivery.headers['request-id'], status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
    }),
  );
}

function storedIds(dbPath: string): string[] {
  const store = new MemoryStore(dbPath);
  try {
    return store.db.raw.prepare('SELECT delivery_id FROM inbox ORDER BY delivery_id').pluck().all() as string[];
  } finally {
    store.close();
  }
}

/**
 * What both faults must look like from outside: every refusal is a 503 with Retry-After and a reason,
 * the server logged it at error level, and exactly the acknowledged deliveries are in the inbox.
 */
function expectRefusedAndLogged(answers: Answer[], reason: string, dbPath: string, output: string) {
  const refused = answers.filter((a) => a.status !== 200);
  expect(refused.length).toBeGreaterThan(0);
  for (const answer of refused) {
    expect(answer).toMatchObject({ status: 503, retryAfter: '10', body: { ok: false, error: `could not store the delivery (${reason}); retry later` } });
  }
  const errorLines = output.split('\n').filter((line) => line.includes('"level":50') && line.includes('webhook delivery NOT stored'));
  expect(errorLines.length).toBeGreaterThan(0);
  expect(output).not.toContain(SECRET);
  const acknowledged = answers.filter((a) => a.status === 200).map((a) => a.requestId);
  expect(storedIds(dbPath)).toEqual(acknowledged.sort());
}

describe('the webhook route when the inbox cannot be written', () => {
  it('the database is locked past its busy timeout: 503 for the whole batch, logged, and 200 again once the lock is released', async () => {
    const db = tempDbPath();
    cleanups.push(db.cleanup);
    const serve = await startServe(['--db', db.path, '--busy-timeout', '200', '--sync-interval', 'off'], env);
    cleanups.push(() => serve.child.kill('SIGKILL'));
    // Another process's writer holds the write lock and does not let go.
    const holder = new MemoryStore(db.path, { busyTimeoutMs: 0 });
    holder.db.raw.exec('BEGIN IMMEDIATE');
    const deliveries = prepareDeliveries(24, SECRET);
    const answers = await sendAll(serve.url, deliveries);
    expect(answers.every((a) => a.status === 503)).toBe(true);
    holder.db.raw.exec('ROLLBACK');
    holder.close();
    expectRefusedAndLogged(answers, 'database busy', db.path, serve.output());

    // Sentry retries: now everything is stored, once.
    const retried = await sendAll(serve.url, deliveries);
    expect(retried.map((a) => [a.status, a.body])).toEqual(deliveries.map(() => [200, { ok: true, duplicate: false }]));
    expect(storedIds(db.path)).toEqual(deliveries.map((d) => d.headers['request-id']).sort());
    serve.child.kill('SIGTERM');
    await waitForExit(serve.child);
    expect(serve.child.exitCode).toBe(0);
  });

  it('the disk is full (a small tmpfs filled up): 503, logged, nothing acknowledged that is not stored, and 200 again once space is freed', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-full-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (error) {
      ctx.skip(`needs to mount a small tmpfs (root, mount permitted): ${String((error as { stderr?: unknown }).stderr ?? error).trim()}`);
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
    expectRefusedAndLogged(answers, 'disk full', dbPath, serve.output());

    unlinkSync(filler);
    const refused = deliveries.filter((d) => answers.find((a) => a.requestId === d.headers['request-id'])!.status !== 200);
    const retried = await sendAll(serve.url, refused);
    expect(retried.map((a) => [a.status, a.body])).toEqual(refused.map(() => [200, { ok: true, duplicate: false }]));
    expect(storedIds(dbPath)).toEqual(deliveries.map((d) => d.headers['request-id']).sort());
    // The process survived its worker's failed batches too, and drains the inbox.
    const drained = await waitFor('the worker to drain the inbox once space is back', async () => {
      const { inbox } = (await (await fetch(`${serve.url}/healthz`)).json()) as { inbox: Record<string, number> };
      return inbox.pending === 0 ? inbox : undefined;
    });
    expect(drained).toEqual({ pending: 0, processed: deliveries.length, skipped: 0, dead: 0, held: 0 });
    serve.child.kill('SIGTERM');
    await waitForExit(serve.child);
    expect(serve.child.exitCode).toBe(0);
  });
});
