import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import type { Delivery, DeliveryProcessor } from '../../src/queue/delivery.js';
import { Inbox } from '../../src/queue/inbox.js';
import { InboxWorker, type WorkerOptions } from '../../src/queue/worker.js';
import { SENTRY_SOURCE } from '../../src/sentry/source.js';
import { createSentryProcessor } from '../../src/sentry/webhooks/process.js';
import {
  column,
  createTestDatabase,
  execute,
  rows,
  scalar,
  TEST_ENGINE,
  type TestDatabase,
} from '../helpers/database.js';
import { deliveriesOf, scenario, type GeneratedDeliveries } from '../helpers/delivery-arbitraries.js';
import { memorySnapshot } from '../helpers/sync.js';

/**
 * However the worker splits the inbox into batches (one big batch, two workers sharing it, a batch
 * that dies part-way), memory and the inbox end as when the same deliveries are applied one at a
 * time. Written against the per-delivery batch path, to hold any batch path to it.
 */

const logger = pino({ level: 'silent' });
/** A delivery that fails is due again at once, so a drain runs a poison delivery to its last attempt. */
const RETRY_NOW: WorkerOptions = { retryBaseMs: 0 };
/** Large enough that a batch never stops for time: the batch size alone splits the work. */
const NO_TIME_LIMIT = 1e9;
/** The reference, one big batch, two workers, a killed batch. */
const VARIANTS = 4;

const processors = (processor: DeliveryProcessor = createSentryProcessor()) => ({ [SENTRY_SOURCE]: processor });

/**
 * One database per variant. SQLite: a new file each run. PostgreSQL: created once and emptied each run
 * (identities restarted, so seqs start over as in a new one): creating and migrating four databases
 * per run would cost most of the time budget.
 */
const reusable: TestDatabase[] = [];
beforeAll(async () => {
  if (TEST_ENGINE === 'postgres')
    for (let i = 0; i < VARIANTS; i++) {
      const database = await createTestDatabase();
      await (await MemoryStore.open(database.location)).close();
      reusable.push(database);
    }
});
afterAll(async () => {
  for (const database of reusable) await database.cleanup();
});

async function emptyDatabase(
  slot: number,
): Promise<{ location: string; store: MemoryStore; cleanup(): Promise<void> }> {
  if (TEST_ENGINE === 'sqlite') {
    const database = await createTestDatabase();
    return { location: database.location, store: await MemoryStore.open(database.location), cleanup: database.cleanup };
  }
  const { location } = reusable[slot];
  const store = await MemoryStore.open(location);
  const tables = await column<string>(
    store.db,
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
  );
  await execute(store.db, `TRUNCATE ${tables.join(', ')} RESTART IDENTITY`);
  return { location, store, cleanup: async () => undefined };
}

/** A database with the deliveries enqueued in one group commit (seqs in their order: see deliveriesOf). */
async function freshInbox(slot: number, deliveries: Delivery[]) {
  const { location, store, cleanup } = await emptyDatabase(slot);
  const inbox = new Inbox(store.db);
  const results = await Promise.all(deliveries.map((delivery) => inbox.enqueue(delivery)));
  const seqs = results.filter((r) => !r.duplicate).map((r) => r.seq!);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  return { location, store, cleanup };
}

const pending = async (db: MemoryDatabase) =>
  Number(await scalar(db, "SELECT count(*) FROM inbox WHERE state = 'pending'"));

/** What a run leaves: the memory, and each delivery's end state in the inbox. */
async function outcome(db: MemoryDatabase) {
  const inbox = await rows<{ delivery_id: string; state: string; attempts: number; last_error: string | null }>(
    db,
    'SELECT delivery_id, state, attempts, last_error FROM inbox ORDER BY delivery_id',
  );
  const memory = await memorySnapshot(db, { history: true });
  return { inbox: inbox.map((r) => ({ ...r, attempts: Number(r.attempts) })), memory };
}

/**
 * Concurrent workers apply some deliveries out of seq order (one deferred behind another worker's
 * lock, or simply later). Left out then, as they depend on the order in the current code: the
 * history (see memorySnapshot), and observations, whose id is per minute (two transitions of one
 * issue in a minute: the one applied last wins) with their search documents, the time of an
 * issue-level document, and an issue's priority.
 */
const without = (table: unknown[], column: string) => table.map((row) => ({ ...(row as object), [column]: undefined }));

function orderFree({ inbox, memory }: Outcome) {
  const { issue_history: _h, observations: _o, search_docs: _s, agent_docs, issues, ...rest } = memory;
  return {
    inbox,
    memory: {
      ...rest,
      // An issue's document takes the last_seen of the row it was indexed from, re-indexed once an hour.
      agent_docs: (agent_docs as { kind: string }[]).map((doc) =>
        doc.kind === 'issue' ? { ...doc, occurred_at: undefined } : doc,
      ),
      // Of two priorities sent in one second, the first applied stays (no arrival tie-break).
      issues: without(issues, 'priority'),
    },
  };
}

type Outcome = Awaited<ReturnType<typeof outcome>>;

/** Runs `drive` on a fresh database holding the deliveries (it returns the store it ended on); what it left. */
async function variant(
  slot: number,
  deliveries: Delivery[],
  drive: (location: string, store: MemoryStore) => Promise<MemoryStore>,
  check?: (db: MemoryDatabase, result: Outcome) => Promise<void>,
) {
  const fresh = await freshInbox(slot, deliveries);
  let store = fresh.store;
  try {
    store = await drive(fresh.location, store);
    expect(await pending(store.db)).toBe(0);
    const result = await outcome(store.db);
    await check?.(store.db, result);
    return result;
  } finally {
    await store.close();
    await fresh.cleanup();
  }
}

/**
 * `db`, severed once `dead()` says so: every statement then fails as on a lost connection, the
 * transaction's own rollback aside (the engine's, below this wrapper).
 */
function severable(db: MemoryDatabase, dead: () => boolean): MemoryDatabase {
  const alive = () => {
    if (dead()) throw new Error('Connection terminated unexpectedly');
  };
  return {
    engine: db.engine,
    get qb() {
      return db.qb;
    },
    all: async (query) => (alive(), db.all(query)),
    get: async (query) => (alive(), db.get(query)),
    run: async (query) => (alive(), db.run(query)),
    lock: async (key) => (alive(), db.lock(key)),
    tryLocks: async (keys) => (alive(), db.tryLocks(keys)),
    statementsSent: () => db.statementsSent(),
    notify: async (channel) => (alive(), db.notify(channel)),
    listen: (channel, listener) => db.listen(channel, listener),
    transaction: (fn, options) => db.transaction((tx) => fn(severable(tx, dead)), options),
    close: () => db.close(),
  };
}

/** The reference's own facts: every delivery applied once, and each event counted once, however often it came. */
async function expectAppliedOnce(generated: GeneratedDeliveries, db: MemoryDatabase, reference: Outcome) {
  for (const row of reference.inbox) {
    if (row.delivery_id === generated.poisonId) {
      expect(row.state).toBe('dead');
      // Unparseable JSON is retried to the last attempt; a payload of the wrong shape is dead at once.
      expect(row).toMatchObject(
        row.delivery_id.endsWith('poison-json')
          ? { attempts: 5, last_error: expect.stringMatching(/JSON/) }
          : { attempts: 1, last_error: expect.stringMatching(/invalid issue\.created payload/) },
      );
    } else expect(row).toEqual({ delivery_id: row.delivery_id, state: 'processed', attempts: 1, last_error: null });
  }
  for (const [issueId, events] of generated.eventsByIssue) {
    const counted = await rows<{ resolution: string; n: number }>(
      db,
      'SELECT resolution, sum(received) AS n FROM issue_event_counts WHERE issue_id = ? GROUP BY resolution ORDER BY resolution',
      issueId,
    );
    expect(counted.map((c) => [c.resolution, Number(c.n)])).toEqual([
      ['day', events.size],
      ['hour', events.size],
    ]);
    expect(Number(await scalar(db, 'SELECT count(*) FROM events WHERE issue_id = ?', issueId))).toBe(events.size);
    const customers = await scalar(
      db,
      "SELECT total FROM issue_tag_keys WHERE issue_id = ? AND key = 'customer'",
      issueId,
    );
    expect(Number(customers)).toBe(events.size);
  }
}

/** Two workers on two connections until nothing is pending: at once on PostgreSQL, in turns on SQLite (one writer). */
async function twoWorkers(
  location: string,
  plan: { sizes: [number, number]; oneAtATime: [boolean, boolean]; turns: number[] },
) {
  const stores = [await MemoryStore.open(location), await MemoryStore.open(location)];
  try {
    const workers = stores.map(
      (s, i) =>
        new InboxWorker(s.db, new Inbox(s.db), processors(), logger, {
          ...RETRY_NOW,
          batchSize: plan.sizes[i],
          // A zero budget takes one delivery a batch: the rest stay fetched, and go stale as the other worker takes them.
          maxBatchMs: plan.oneAtATime[i] ? 0 : NO_TIME_LIMIT,
        }),
    );
    for (let round = 0; (await pending(stores[0].db)) > 0; round++) {
      if (round > 500) throw new Error('two workers did not drain the inbox');
      if (TEST_ENGINE === 'postgres') await Promise.all(workers.map((w) => w.drain()));
      else await workers[plan.turns[round % plan.turns.length]].runBatch();
    }
  } finally {
    for (const s of stores) await s.close();
  }
}

const plans = fc.record({
  twoWorkers: fc.record({
    sizes: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })),
    oneAtATime: fc.tuple(fc.boolean(), fc.boolean()),
    turns: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 8 }),
  }),
  /** Which processor call the connection dies in (modulo the deliveries stored), in batches of `batchSize`. */
  kill: fc.record({ at: fc.nat(), batchSize: fc.integer({ min: 2, max: 12 }) }),
});

describe(`batching equivalence (${TEST_ENGINE})`, () => {
  it('one big batch, two workers, and a batch killed part-way all end as one delivery at a time', async () => {
    await fc.assert(
      fc.asyncProperty(scenario(), plans, async (s, plan) => {
        const generated = deliveriesOf(s);
        const { deliveries } = generated;
        const stored = new Set(deliveries.map((d) => d.deliveryId)).size;

        // Each on its own database, all at once.
        const [reference, oneBatch, shared, killed] = await Promise.all([
          variant(
            0,
            deliveries,
            async (_, store) => {
              await new InboxWorker(store.db, new Inbox(store.db), processors(), logger, {
                ...RETRY_NOW,
                batchSize: 1,
              }).drain();
              return store;
            },
            (db, result) => expectAppliedOnce(generated, db, result),
          ),
          variant(1, deliveries, async (_, store) => {
            const worker = new InboxWorker(store.db, new Inbox(store.db), processors(), logger, {
              ...RETRY_NOW,
              batchSize: deliveries.length,
              maxBatchMs: NO_TIME_LIMIT,
            });
            // The first batch takes every delivery; a poison delivery's retries follow in later ones.
            expect(await worker.runBatch()).toBe(stored);
            await worker.drain();
            return store;
          }),
          variant(2, deliveries, async (location, store) => {
            await twoWorkers(location, plan.twoWorkers);
            return store;
          }),
          variant(3, deliveries, async (location, store) => {
            const killAt = (plan.kill.at % stored) + 1;
            let calls = 0;
            let dead = false;
            const real = createSentryProcessor();
            const dying: DeliveryProcessor = async (tx, row) => {
              if (++calls === killAt) dead = true;
              if (dead) throw new Error('Connection terminated unexpectedly');
              return real(tx, row);
            };
            const severed = severable(store.db, () => dead);
            const worker = new InboxWorker(severed, new Inbox(severed), processors(dying), logger, {
              ...RETRY_NOW,
              batchSize: plan.kill.batchSize,
              maxBatchMs: NO_TIME_LIMIT,
            });
            await expect(worker.drain()).rejects.toThrow('Connection terminated unexpectedly');
            await store.close();
            // A fresh worker on a fresh connection, as after a restart.
            const restarted = await MemoryStore.open(location);
            await new InboxWorker(restarted.db, new Inbox(restarted.db), processors(), logger, RETRY_NOW).drain();
            return restarted;
          }),
        ]);
        expect(oneBatch).toEqual(reference);
        expect(killed).toEqual(reference);
        if (TEST_ENGINE === 'sqlite') expect(shared).toEqual(reference);
        else expect(orderFree(shared)).toEqual(orderFree(reference));
      }),
      // Shrinking a failure runs many more cases: stop it in time to report the smallest found so far.
      { numRuns: 20, interruptAfterTimeLimit: 100_000 },
    );
  }, 150_000);

  // Without it, an event counted before its issue is stored kept no project until a sync's stats came,
  // so the per-project counts of the release context missed it, and memory depended on arrival order.
  it('an event counted before its issue arrives gets the issue’s project when the issue does', async () => {
    const issue = {
      kind: 'issue',
      action: 'created',
      issue: 0,
      second: 0,
      byUser: false,
      status: 'unresolved',
      assignee: 0,
      count: 1,
      userCount: 1,
      priority: 'high',
    } as const;
    const { deliveries } = deliveriesOf({
      issues: 1,
      steps: [{ fresh: { kind: 'error', issue: 0, event: 0, second: 0 } }, { fresh: issue }],
      poison: null,
    });
    await variant(0, deliveries, async (_, store) => {
      await new InboxWorker(store.db, new Inbox(store.db), processors(), logger, RETRY_NOW).drain();
      expect(await column(store.db, 'SELECT DISTINCT project FROM issue_event_counts')).toEqual(['front-end']);
      return store;
    });
  });
});
