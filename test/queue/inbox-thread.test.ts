import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { receiveSentryDelivery } from '../../src/sentry/webhooks/receiver.js';
import { waitFor } from '../helpers/cli.js';
import { createTestDatabase, scalar, TEST_ENGINE, type TestDatabase } from '../helpers/database.js';
import { crashFreeSnapshot, prepareDeliveries } from '../helpers/deliveries.js';
import { SECRET } from '../helpers/runtime.js';
import { memorySnapshot } from '../helpers/sync.js';

// The inbox thread is SQLite's (PostgreSQL commits never block the event loop): one engine.
let db: TestDatabase;
let runtime: Runtime | null = null;
beforeEach(async () => {
  db = await createTestDatabase('sqlite');
});
afterEach(async () => {
  await runtime?.close();
  runtime = null;
  await db.cleanup();
});

const receive = (rt: Runtime, delivery: ReturnType<typeof prepareDeliveries>[number]) =>
  receiveSentryDelivery(
    { secrets: [SECRET], toleranceSeconds: 3600, workspaceId: DEFAULT_WORKSPACE, enqueue: rt.enqueue },
    (name) => delivery.headers[name],
    delivery.body,
  );

describe.skipIf(TEST_ENGINE === 'postgres')('the inbox thread', () => {
  it('commits what the event loop hands it, processes it, and the memory equals the in-process result', async () => {
    const deliveries = prepareDeliveries(600, SECRET);
    runtime = await openRuntime({ db: db.location, inboxThread: true });
    // Half before processing starts, half while it runs; each duplicate is acknowledged once more without a second effect.
    const first = await Promise.all(deliveries.slice(0, 300).map((d) => receive(runtime!, d)));
    runtime.startProcessing();
    const rest = await Promise.all(
      [...deliveries.slice(300), ...deliveries.slice(0, 20)].map((d) => receive(runtime!, d)),
    );
    expect([...first, ...rest].every((reply) => reply.status === 200)).toBe(true);
    expect(rest.slice(-20).every((reply) => reply.body.duplicate === true)).toBe(true);
    // The thread's commits are visible to this thread's own connection: nothing was acknowledged before it was stored.
    expect(await scalar(runtime.store.db, 'SELECT count(*) FROM inbox')).toBe(600);

    await waitFor(
      'the thread to process the inbox',
      async () => ((await runtime!.inbox.countsByState(DEFAULT_WORKSPACE)).processed === 600 ? true : undefined),
      60_000,
    );
    expect(await runtime.inbox.countsByState(DEFAULT_WORKSPACE)).toEqual({
      pending: 0,
      processed: 600,
      skipped: 0,
      dead: 0,
      held: 0,
    });
    expect(await memorySnapshot(runtime.store.db)).toEqual(await crashFreeSnapshot(deliveries));
  }, 120_000);

  it('after close, a delivery is refused (503 with Retry-After), not lost silently', async () => {
    runtime = await openRuntime({ db: db.location, inboxThread: true });
    const [delivery] = prepareDeliveries(1, SECRET);
    await runtime.close();
    const reply = await receive(runtime, delivery);
    runtime = null;
    expect(reply.status).toBe(503);
    expect(reply.headers?.['retry-after']).toBeDefined();
  });
});
