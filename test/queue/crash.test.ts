import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { Prng } from '../../src/sentry/emulator/prng.js';
import { startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { crashFreeSnapshot, prepareDeliveries, sendConcurrently } from '../helpers/deliveries.js';
import { webhookFixtures } from '../helpers/fixtures.js';
import { createTestDatabase, rows, type TestDatabase } from '../helpers/database.js';
import { SECRET, sentryHeaders } from '../helpers/runtime.js';
import { memorySnapshot } from '../helpers/sync.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.cleanup();
});

describe('nothing acknowledged is lost', () => {
  it('the process is killed (SIGKILL) after acknowledging and before processing; a restart processes everything', async () => {
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    const first = await startServe(['--db', db.location, '--role', 'web'], env);
    const fixtures = webhookFixtures();
    const acknowledged: string[] = [];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        fixtures.map(async (fixture) => {
          const requestId = `${fixture.name}#${round}`;
          const response = await fetch(`${first.url}/webhooks/sentry`, {
            method: 'POST',
            body: fixture.raw,
            headers: sentryHeaders(fixture.resource, fixture.raw, { requestId }),
          });
          if (response.status === 200) acknowledged.push(requestId);
        }),
      );
    }
    expect(acknowledged).toHaveLength(fixtures.length * 5);
    first.child.kill('SIGKILL');
    await waitForExit(first.child);

    const store = await MemoryStore.open(db.location);
    const inbox = new Inbox(store.db);
    expect(await inbox.countsByState(DEFAULT_WORKSPACE)).toMatchObject({ pending: acknowledged.length, processed: 0 });
    await store.close();

    const second = await startServe(['--db', db.location], env);
    try {
      const deadline = Date.now() + 15_000;
      let counts = { pending: -1, processed: 0, dead: 0, skipped: 0 };
      while (Date.now() < deadline) {
        counts = (await (await fetch(`${second.url}/healthz`)).json()).inbox;
        if (counts.pending === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(counts).toEqual({ pending: 0, processed: acknowledged.length, dead: 0, skipped: 0, held: 0 });
    } finally {
      second.child.kill('SIGTERM');
      await waitForExit(second.child);
    }
    const after = await MemoryStore.open(db.location);
    expect((await after.issue(DEFAULT_WORKSPACE, 'FRONT-END-9'))?.title).toBe('ReferenceError: blooopy is not defined');
    expect(await after.counts(DEFAULT_WORKSPACE)).toMatchObject({ comments: 1, alerts: 2, insights: 4 });
    await after.close();
  });
});

describe('crash safety under load', () => {
  const TRIALS = 10;
  const DELIVERIES = 1500;

  it(`SIGKILL at random moments in ${TRIALS} trials of ${DELIVERIES} signed deliveries: every acknowledged one is stored once and memory equals a crash-free run`, async () => {
    const deliveries = prepareDeliveries(DELIVERIES, SECRET);
    const expected = await crashFreeSnapshot(deliveries);
    const rng = new Prng(20_261_120);
    // Long enough that the same signed bytes stay valid for every resend of the whole test.
    const serveArgs = (location: string) => ['--db', location, '--sync-interval', 'off', '--replay-tolerance', '3600'];
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    let killsWhileInFlight = 0;

    for (let trial = 0; trial < TRIALS; trial++) {
      const trialDb = await createTestDatabase();
      try {
        const acknowledged: string[] = [];
        let unacknowledged = deliveries;
        const kills = rng.int(1, 3);
        for (let k = 0; k < kills; k++) {
          const serve = await startServe(serveArgs(trialDb.location), env);
          // Within the first half second: faster acknowledgement had most later kills land after the last delivery.
          const sent = await sendConcurrently(serve.url, unacknowledged, {
            afterMs: rng.int(0, 500),
            run: () => serve.child.kill('SIGKILL'),
          });
          serve.child.kill('SIGKILL');
          await waitForExit(serve.child);
          acknowledged.push(...sent);
          const done = new Set(sent);
          if (done.size < unacknowledged.length) killsWhileInFlight += 1;
          // What Sentry does with every delivery that got no 2xx: send it again.
          unacknowledged = unacknowledged.filter((d) => !done.has(d.headers['request-id']));
        }

        const last = await startServe(serveArgs(trialDb.location), env);
        try {
          const sent = await sendConcurrently(last.url, unacknowledged);
          expect(sent.length, `trial ${trial}: a healthy server acknowledges every resend`).toBe(unacknowledged.length);
          acknowledged.push(...sent);
          await waitFor(
            `trial ${trial}: the inbox to drain`,
            async () => {
              const { inbox } = (await (await fetch(`${last.url}/healthz`)).json()) as {
                inbox: Record<string, number>;
              };
              return inbox.pending === 0 ? inbox : undefined;
            },
            60_000,
          );
        } finally {
          last.child.kill('SIGTERM');
          await waitForExit(last.child);
        }

        expect(new Set(acknowledged).size).toBe(DELIVERIES);
        const store = await MemoryStore.open(trialDb.location);
        try {
          const stored = await rows<{ delivery_id: string; n: number }>(
            store.db,
            'SELECT delivery_id, count(*) AS n FROM inbox GROUP BY delivery_id',
          );
          expect(stored.length, `trial ${trial}: inbox rows`).toBe(DELIVERIES);
          expect(
            stored.filter((row) => row.n !== 1),
            `trial ${trial}: a delivery stored more than once`,
          ).toEqual([]);
          const storedIds = new Set(stored.map((row) => row.delivery_id));
          expect(
            acknowledged.filter((id) => !storedIds.has(id)),
            `trial ${trial}: acknowledged but not stored`,
          ).toEqual([]);
          const inbox = new Inbox(store.db);
          // On failure, say why: the first deliveries that did not become memory, with their errors.
          const problems = JSON.stringify(
            (await inbox.problems(DEFAULT_WORKSPACE, 3)).map((p) => `${p.resource}.${p.action}: ${p.last_error}`),
          );
          expect(await inbox.countsByState(DEFAULT_WORKSPACE), `trial ${trial}: ${problems}`).toEqual({
            pending: 0,
            processed: DELIVERIES,
            skipped: 0,
            dead: 0,
            held: 0,
          });
          const actual = await memorySnapshot(store.db);
          for (const [table, rows] of Object.entries(expected)) {
            const got = actual[table as keyof typeof actual];
            const first = rows.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(got[i]));
            expect(
              { table, rows: got.length, firstDifference: first === -1 ? null : got[first] },
              `trial ${trial}: memory differs from the crash-free run`,
            ).toEqual({ table, rows: rows.length, firstDifference: first === -1 ? null : rows[first] });
          }
        } finally {
          await store.close();
        }
      } finally {
        await trialDb.cleanup();
      }
    }
    // The kills landed while deliveries were in flight, not only before or after them.
    expect(killsWhileInFlight).toBeGreaterThanOrEqual(TRIALS);
  }, 600_000);
});
