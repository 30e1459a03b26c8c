import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryDatabase } from '../../src/memory/database.js';
import type { MemoryStore } from '../../src/memory/store.js';
import type { InboxRow, ProcessOutcome } from '../../src/queue/delivery.js';
import { Inbox } from '../../src/queue/inbox.js';
import { InboxWorker } from '../../src/queue/worker.js';
import { createSentryProcessor } from '../../src/sentry/webhooks/process.js';
import { waitFor } from '../helpers/cli.js';
import { openTestStore, TEST_ENGINE } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';

const ws = DEFAULT_WORKSPACE;
let opened: Awaited<ReturnType<typeof openTestStore>>;
let store: MemoryStore;
let inbox: Inbox;

beforeEach(async () => {
  opened = await openTestStore();
  store = opened.store;
  inbox = new Inbox(store.db);
});
afterEach(async () => {
  await opened.close();
});

async function enqueue(name: string, deliveryId: string) {
  const fixture = webhookFixture(name);
  await inbox.enqueue({
    workspaceId: ws,
    source: 'sentry',
    deliveryId,
    resource: fixture.resource,
    action: fixture.action,
    externalId: null,
    sentAt: new Date().toISOString(),
    body: fixture.raw,
  });
}

const quiet = pino({ level: 'silent' });
const due = () => inbox.due(100, '9999-01-01T00:00:00.000Z');
/** Moves every delivery's next attempt into the past, as if its backoff had passed. */
const makeDue = () =>
  store.db.run(store.db.qb.updateTable('inbox').set({ next_attempt_at: new Date(0).toISOString() }));

describe('Inbox', () => {
  it('stores one group commit of new deliveries, copies of one and a delivery stored before, each new one once', async () => {
    const fixture = webhookFixture('issue.created');
    const delivery = (deliveryId: string, workspaceId = ws) => ({
      workspaceId,
      source: 'sentry',
      deliveryId,
      resource: fixture.resource,
      action: fixture.action,
      externalId: null,
      sentAt: new Date().toISOString(),
      body: fixture.raw,
    });
    const earlier = await inbox.enqueue(delivery('stored-before'));
    expect(earlier).toMatchObject({ accepted: true, duplicate: false });
    // One event-loop turn: one transaction.
    const results = await Promise.all(
      ['z', 'a', 'a', 'stored-before', 'm', 'a']
        .map((id) => inbox.enqueue(delivery(id)))
        .concat(inbox.enqueue(delivery('a', 'other'))),
    );
    expect(results.map((r) => r.duplicate)).toEqual([false, false, true, true, false, true, false]);
    const seqs = results.filter((r) => !r.duplicate).map((r) => r.seq);
    expect(seqs.every((seq) => typeof seq === 'number' && seq > earlier.seq!)).toBe(true);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(results.filter((r) => r.duplicate).every((r) => r.seq === null)).toBe(true);
    expect(await inbox.countsByState(ws)).toMatchObject({ pending: 4 });
    expect(await inbox.countsByState('other')).toMatchObject({ pending: 1 });
  });
});

describe('InboxWorker', () => {
  it('retries a failing delivery with backoff and applies it once it succeeds', async () => {
    await enqueue('issue.created', 'a');
    const real = createSentryProcessor();
    let calls = 0;
    const flaky = async (tx: MemoryDatabase, row: InboxRow): Promise<ProcessOutcome> => {
      calls += 1;
      if (calls < 3) throw new Error(`database hiccup ${calls}`);
      return real(tx, row);
    };
    const worker = new InboxWorker(store.db, inbox, { sentry: flaky }, quiet, { retryBaseMs: 60_000, maxAttempts: 5 });
    expect(await worker.runBatch()).toBe(1);
    // Not due again until its backoff has passed.
    expect(await worker.runBatch()).toBe(0);
    const [row] = await due();
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_error: 'database hiccup 1' });
    expect(Date.parse(row.next_attempt_at) - Date.now()).toBeGreaterThan(50_000);
    await makeDue();
    await worker.runBatch();
    await makeDue();
    await worker.runBatch();
    expect(await inbox.countsByState(ws)).toMatchObject({ processed: 1, pending: 0 });
    expect((await store.counts(ws)).issues).toBe(1);
  });

  it('dead-letters after the bounded number of attempts, keeping the error; other deliveries in the batch are unaffected', async () => {
    await enqueue('issue.created', 'poison');
    await enqueue('comment.created', 'fine');
    const real = createSentryProcessor();
    const processor = async (tx: MemoryDatabase, row: InboxRow): Promise<ProcessOutcome> => {
      if (row.delivery_id === 'poison') throw new Error('boom');
      return real(tx, row);
    };
    const worker = new InboxWorker(store.db, inbox, { sentry: processor }, quiet, { retryBaseMs: 0, maxAttempts: 3 });
    for (let i = 0; i < 5; i++) await worker.drain();
    expect(await inbox.countsByState(ws)).toEqual({ pending: 0, processed: 1, skipped: 0, dead: 1, held: 0 });
    expect(await inbox.problems(ws, 5)).toEqual([
      expect.objectContaining({ delivery_id: 'poison', state: 'dead', attempts: 3, last_error: 'boom' }),
    ]);
    // A failure inside a delivery rolls back only that delivery's writes.
    expect(await store.counts(ws)).toMatchObject({ issues: 0, comments: 1 });
  });

  it('deliveries of a deleted installation are kept but not applied', async () => {
    const installed = webhookFixture('installation.created').json as Record<string, unknown>;
    await inbox.enqueue({
      workspaceId: ws,
      source: 'sentry',
      deliveryId: 'del',
      resource: 'installation',
      action: 'deleted',
      externalId: null,
      sentAt: new Date().toISOString(),
      body: JSON.stringify({ ...installed, action: 'deleted' }),
    });
    await enqueue('issue.created', 'late');
    const worker = new InboxWorker(store.db, inbox, { sentry: createSentryProcessor() }, quiet);
    await worker.drain();
    expect(await inbox.countsByState(ws)).toMatchObject({ processed: 1, skipped: 1 });
    expect(await store.counts(ws)).toMatchObject({ issues: 0, connections: 1 });
  });

  // The time-sliced batches of SQLite, where one connection serves the receiver's commits too; a
  // PostgreSQL batch takes its rows whole (folded-batches.test.ts).
  it.skipIf(TEST_ENGINE === 'postgres')(
    'ends a batch early when deliveries wait for their commit, and resumes where it stopped',
    async () => {
      for (const id of ['a', 'b', 'c', 'd']) await enqueue('error.created', id);
      let waiting = true;
      const worker = new InboxWorker(store.db, inbox, { sentry: createSentryProcessor() }, quiet, {
        maxBatchMs: 60_000,
        sliceUnderLoadMs: 0,
        commitsWaiting: () => waiting,
      });
      // At least one delivery per batch, so that a steady load cannot stop processing altogether.
      expect(await worker.runBatch()).toBe(1);
      expect(await inbox.countsByState(ws)).toMatchObject({ processed: 1, pending: 3 });
      waiting = false;
      expect(await worker.runBatch()).toBe(3);
      expect(await inbox.countsByState(ws)).toMatchObject({ processed: 4, pending: 0 });
    },
  );

  it('takes no batch while deliveries it shares a connection with wait for their group commit', async () => {
    await enqueue('error.created', 'stored-before');
    const worker = new InboxWorker(store.db, inbox, { sentry: createSentryProcessor() }, quiet, { pollMs: 60_000 });
    const fixture = webhookFixture('issue.created');
    // The worker's batch is scheduled before this delivery's commit, in the same turn: it waits for the commit.
    worker.start();
    const acknowledged = inbox.enqueue({
      workspaceId: ws,
      source: 'sentry',
      deliveryId: 'new',
      resource: fixture.resource,
      action: fixture.action,
      externalId: null,
      sentAt: new Date().toISOString(),
      body: fixture.raw,
    });
    const processedAtAcknowledgement = await acknowledged.then(async () => (await inbox.countsByState(ws)).processed);
    await waitFor('the worker to process both', async () =>
      (await inbox.countsByState(ws)).processed === 2 ? true : undefined,
    );
    await worker.stop();
    expect(processedAtAcknowledgement).toBe(0);
  });
});
