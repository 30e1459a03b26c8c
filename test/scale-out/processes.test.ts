import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { Prng } from '../../src/sentry/emulator/prng.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { startServe, startWorker, waitFor, waitForExit } from '../helpers/cli.js';
import { createTestDatabase, rows, scalar, type TestDatabase } from '../helpers/database.js';
import { postDelivery, prepareDeliveries, type PreparedDelivery } from '../helpers/deliveries.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver, SECRET, startTestService } from '../helpers/runtime.js';
import { memorySnapshot } from '../helpers/sync.js';

/** Installations of the public integration, each its own organization and so its own workspace. */
const INSTALLATIONS = [
  { uuid: '00000001-aaaa-4bbb-8ccc-000000000001', org: 'acme' },
  { uuid: '00000002-aaaa-4bbb-8ccc-000000000002', org: 'globex' },
  { uuid: '00000003-aaaa-4bbb-8ccc-000000000003', org: 'initech' },
];

function signed(resource: string, payload: unknown, requestId: string): PreparedDelivery {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'request-id': requestId,
      'sentry-hook-resource': resource,
      'sentry-hook-timestamp': String(Math.floor(Date.now() / 1000)),
      'sentry-hook-signature': signBody(SECRET, body),
    },
  };
}

/**
 * The fixture mix (issues, errors, comments, alerts, Seer), spread over three installations, plus each
 * installation's `installation.created`. Shuffled, so some deliveries overtake their installation's
 * creation (held, then released), with a tenth of them delivered twice (Sentry retries).
 */
function tenantDeliveries(count: number): { unique: PreparedDelivery[]; shuffled: PreparedDelivery[] } {
  const created = INSTALLATIONS.map((installation, i) => {
    const payload = structuredClone(webhookFixture('installation.created').json) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    payload.installation = { uuid: installation.uuid };
    payload.data.installation = {
      ...payload.data.installation,
      uuid: installation.uuid,
      code: `code-${i}`,
      organization: { slug: installation.org },
    };
    return signed('installation', payload, `installation-created-${i}`);
  });
  const events = prepareDeliveries(count, SECRET).map((delivery, i) => {
    const payload = JSON.parse(delivery.body.toString()) as Record<string, unknown>;
    payload.installation = { uuid: INSTALLATIONS[i % INSTALLATIONS.length].uuid };
    return signed(delivery.headers['sentry-hook-resource'], payload, delivery.headers['request-id']);
  });
  const unique = [...created, ...events];
  const rng = new Prng(7);
  const shuffled = [...unique, ...unique.filter((_, i) => i % 10 === 3)];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return { unique, shuffled };
}

/** What one process on embedded SQLite makes of the deliveries, in their natural order: the reference. */
async function singleProcessSnapshot(deliveries: PreparedDelivery[]) {
  const service = await startTestService({ engine: 'sqlite', workspacePerInstallation: true });
  try {
    for (const d of deliveries) {
      const response = await deliver(service.app, d.headers['sentry-hook-resource'], d.body, {
        requestId: d.headers['request-id'],
        timestamp: Number(d.headers['sentry-hook-timestamp']),
      });
      expect(response.statusCode).toBe(200);
    }
    await service.runtime.worker.drain();
    return await memorySnapshot(service.runtime.store.db);
  } finally {
    await service.close();
  }
}

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.cleanup();
});

describe('scale-out: 2 web and 3 worker processes on one database', () => {
  it('a worker SIGKILLed mid-run and restarted: every acknowledged delivery is applied once, and each workspace equals one SQLite process', async () => {
    const { unique, shuffled } = tenantDeliveries(2400);
    const expected = await singleProcessSnapshot(unique);
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    const args = [
      '--db',
      db.location,
      '--sync-interval',
      'off',
      '--replay-tolerance',
      '3600',
      '--workspace-per-installation',
      '--retry-base',
      '50',
    ];
    const webs = [await startServe([...args, '--role', 'web'], env), await startServe([...args, '--role', 'web'], env)];
    const workers = [await startWorker(args, env), await startWorker(args, env), await startWorker(args, env)];
    try {
      // Sentry's retries reach whichever web process the load balancer picks: alternate between them.
      const acknowledged = new Set<string>();
      let next = 0;
      let killed = false;
      await Promise.all(
        Array.from({ length: 24 }, async (_, lane) => {
          while (next < shuffled.length) {
            const delivery = shuffled[next++];
            if (!killed && next > shuffled.length / 3) {
              killed = true;
              workers[0].child.kill('SIGKILL');
            }
            const status = await postDelivery(webs[lane % webs.length].url, delivery);
            if (status !== 200)
              throw new Error(
                `delivery answered ${status}:\n${webs
                  .map((w) => w.output())
                  .join('\n')
                  .split('\n')
                  .filter((l) => l.includes('"level":50'))
                  .slice(0, 3)
                  .join('\n')}`,
              );
            acknowledged.add(delivery.headers['request-id']);
          }
        }),
      );
      expect(acknowledged.size).toBe(unique.length);
      await waitForExit(workers[0].child);
      workers[0] = await startWorker(args, env);

      const store = await MemoryStore.open(db.location);
      try {
        await waitFor(
          'the workers to drain every workspace',
          async () =>
            (await scalar(store.db, "SELECT count(*) FROM inbox WHERE state IN ('pending', 'held')")) === 0
              ? true
              : undefined,
          90_000,
        );
        const states = await rows<{ state: string; n: number }>(
          store.db,
          'SELECT state, count(*) AS n FROM inbox GROUP BY state',
        );
        expect(Object.fromEntries(states.map((s) => [s.state, Number(s.n)]))).toEqual({ processed: unique.length });
        // Settling counts an attempt and a killed worker's batch rolls back with it: two applications would show 2.
        expect(await scalar(store.db, 'SELECT count(*) FROM inbox WHERE attempts <> 1')).toBe(0);
        expect(
          await rows(
            store.db,
            'SELECT source, external_id, workspace_id FROM installation_workspaces ORDER BY workspace_id',
          ),
        ).toEqual(INSTALLATIONS.map((i) => ({ source: 'sentry', external_id: i.uuid, workspace_id: i.org })));
        expect(await memorySnapshot(store.db)).toEqual(expected);
      } finally {
        await store.close();
      }
    } finally {
      for (const p of [...webs, ...workers]) p.child.kill('SIGTERM');
      await Promise.all([...webs, ...workers].map((p) => waitForExit(p.child)));
    }
  }, 240_000);
});
