import type { CompiledQuery } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { InboxWorker } from '../../src/queue/worker.js';
import { rows, TEST_ENGINE } from '../helpers/database.js';
import { crashFreeSnapshot, prepareDeliveries, type PreparedDelivery } from '../helpers/deliveries.js';
import { SECRET, startTestService, type TestService } from '../helpers/runtime.js';
import { memorySnapshot } from '../helpers/sync.js';
import pino from 'pino';
import { createSentryProcessor } from '../../src/sentry/webhooks/process.js';

let service: TestService;
beforeEach(async () => {
  service = await startTestService();
});
afterEach(async () => {
  await service.close();
});

/** Stores prepared deliveries in the inbox as the receiver does (one group commit). */
async function enqueue(deliveries: readonly PreparedDelivery[]): Promise<void> {
  await Promise.all(
    deliveries.map((d) =>
      service.runtime.inbox.enqueue({
        workspaceId: DEFAULT_WORKSPACE,
        source: 'sentry',
        deliveryId: d.headers['request-id'],
        resource: d.headers['sentry-hook-resource'],
        action: (JSON.parse(d.body.toString()) as { action: string }).action,
        externalId: null,
        // The receiver's: the signed timestamp.
        sentAt: new Date(Number(d.headers['sentry-hook-timestamp']) * 1000).toISOString(),
        body: d.body.toString(),
      }),
    ),
  );
}

function worker(db: MemoryDatabase, options: { maxAttempts?: number } = {}) {
  return new InboxWorker(db, service.runtime.inbox, { sentry: createSentryProcessor() }, pino({ level: 'silent' }), {
    retryBaseMs: 0,
    ...options,
  });
}

function ddl(db: MemoryDatabase, text: string) {
  return db.run({
    compile: () => ({ sql: text, parameters: [], query: undefined as never }) as unknown as CompiledQuery,
  });
}

/** PostgreSQL refuses to store a comment that says POISON (a trigger raises), whichever statement carries it. */
async function refusePoisonedComments(db: MemoryDatabase): Promise<void> {
  await ddl(
    db,
    `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'poisoned comment'; END $$`,
  );
  await ddl(
    db,
    `CREATE TRIGGER refuse_poison BEFORE INSERT ON comments FOR EACH ROW WHEN (new.text LIKE '%POISON%') EXECUTE FUNCTION refuse_poison()`,
  );
}

// SQLite's worker takes time-sliced batches one delivery at a time (worker.test.ts); these are PostgreSQL's.
describe.runIf(TEST_ENGINE === 'postgres')('PostgreSQL batches folded into one write per table', () => {
  it('make the memory one SQLite process makes of the same deliveries, in at most 0.1 statements per delivery', async () => {
    const deliveries = prepareDeliveries(1_200, SECRET);
    await enqueue(deliveries);
    const db = service.runtime.store.db;
    const drainer = worker(db);
    const before = db.statementsSent();
    expect(await drainer.drain()).toBe(deliveries.length);
    const statements = db.statementsSent() - before;
    expect(statements / deliveries.length).toBeLessThanOrEqual(0.1);
    expect(drainer.stats).toMatchObject({ deliveries: deliveries.length, deferred: 0 });
    expect(await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).toMatchObject({
      pending: 0,
      processed: deliveries.length,
      dead: 0,
    });
    expect(await memorySnapshot(db)).toEqual(await crashFreeSnapshot(deliveries));
  });

  it('a delivery that breaks the folded write is tried alone and dead-lettered; the rest of its batch is applied once', async () => {
    const deliveries = prepareDeliveries(80, SECRET);
    const poisoned = deliveries.findIndex((d) => d.headers['sentry-hook-resource'] === 'comment');
    const body = JSON.parse(deliveries[poisoned].body.toString());
    body.data.comment = 'POISON in the middle of the batch';
    const poison = { ...deliveries[poisoned], body: Buffer.from(JSON.stringify(body)) };
    const db = service.runtime.store.db;
    await refusePoisonedComments(db);
    await enqueue([...deliveries.slice(0, 40), poison, ...deliveries.slice(40)].filter((_, i) => i !== poisoned));
    const drainer = worker(db, { maxAttempts: 1 });
    await drainer.drain();
    const [dead] = await rows<{ delivery_id: string; last_error: string }>(
      db,
      "SELECT delivery_id, last_error FROM inbox WHERE state = 'dead'",
    );
    expect(dead).toEqual({ delivery_id: poison.headers['request-id'], last_error: 'poisoned comment' });
    expect(await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).toMatchObject({
      pending: 0,
      processed: deliveries.length - 1,
      dead: 1,
    });
    const kept = deliveries.filter((_, i) => i !== poisoned);
    expect(await memorySnapshot(db)).toEqual(await crashFreeSnapshot(kept));
  });

  it('two workers draining at once settle every delivery once, and make the memory one SQLite process makes', async () => {
    const deliveries = prepareDeliveries(2_000, SECRET);
    await enqueue(deliveries);
    const { MemoryStore } = await import('../../src/memory/store.js');
    const second = await MemoryStore.open(service.location);
    try {
      const workers = [worker(service.runtime.store.db), worker(second.db)];
      const taken = await Promise.all(workers.map((w) => w.drain()));
      const settled = workers.reduce((sum, w) => sum + w.stats.deliveries, 0);
      expect(settled).toBe(deliveries.length);
      expect(taken.every((n) => n > 0)).toBe(true);
      expect(await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).toMatchObject({
        pending: 0,
        processed: deliveries.length,
      });
      expect(await memorySnapshot(service.runtime.store.db)).toEqual(await crashFreeSnapshot(deliveries));
    } finally {
      await second.close();
    }
  });
});
