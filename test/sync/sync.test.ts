import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { SentryApiClient } from '../../src/sentry/api/client.js';
import type { Credentials } from '../../src/sentry/auth/credentials.js';
import { completeInstallation, InstallationTokenProvider } from '../../src/sentry/auth/installation.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { createTestDatabase, TEST_ENGINE, type TestDatabase } from '../helpers/database.js';
import { expectMemoryMatches, memorySnapshot, syncFor } from '../helpers/sync.js';

function memoryCredentials(initial: Credentials) {
  let current = initial;
  return { load: async () => current, save: async (c: Credentials) => void (current = c) };
}

async function installationProvider(emu: Emulator) {
  const { uuid, code } = await emu.createInstallation();
  const app = { baseUrl: emu.url, installationUuid: uuid, clientId: emu.clientId, clientSecret: emu.clientSecret };
  let initial: Credentials = { accessToken: '', refreshToken: '', expiresAt: 0 };
  await completeInstallation({
    ...app,
    code,
    store: { load: async () => initial, save: async (c) => void (initial = c) },
  });
  const store = memoryCredentials(initial);
  return { provider: new InstallationTokenProvider({ ...app, store }), store, app };
}

// PostgreSQL writes each record in its own round trip: a first sync of 2,500 issues takes about three times as long as on SQLite.
const largeSyncTimeout = TEST_ENGINE === 'postgres' ? 180_000 : 90_000;

describe('full sync of a large organization', () => {
  let emu: Emulator;
  let db: TestDatabase;
  let store: MemoryStore;

  beforeAll(async () => {
    emu = await startEmulator({ seed: 11, issues: 2500, projects: 4, rateLimit: { perSecond: 100_000 } });
    db = await createTestDatabase();
    store = await MemoryStore.open(db.location);
  });
  afterAll(async () => {
    await store?.close();
    await emu?.close();
    await db?.cleanup();
  });

  it(
    'memory equals the emulator exactly, across pages; a re-run fetches only what changed',
    async () => {
      const summary = await syncFor(emu, store).run();
      expect(summary.streams.issues).toEqual({ pages: 25, items: 2500 });
      await expectMemoryMatches(store.db, emu);

      const before = await memorySnapshot(store.db);
      const again = await syncFor(emu, store).run();
      // Incremental: the issue window starts where the last one ended, and unchanged releases are not re-read.
      expect(again.requests).toBeLessThan(summary.requests / 20);
      expect(await memorySnapshot(store.db)).toEqual(before);
    },
    largeSyncTimeout,
  );

  it('reconcile picks up status and assignment changes that do not move lastSeen', async () => {
    const active = emu.data.issues
      .filter((i) => i.status === 'unresolved')
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
    const [toResolve, toAssign] = active;
    const member = emu.data.members[1].userId;
    await emu.resolveIssue(toResolve.id);
    await emu.assignIssue(toAssign.id, { type: 'user', id: member });
    const plain = await syncFor(emu, store).run();
    expect((await store.issue(DEFAULT_WORKSPACE, toResolve.id))?.status).toBe('unresolved');
    const summary = await syncFor(emu, store).reconcile();
    expect(summary.streams['issues.reconcile']!.items).toBeGreaterThan(0);
    expect(plain.streams.issues!.items).toBeLessThan(summary.streams['issues.reconcile']!.items);
    expect(await store.issue(DEFAULT_WORKSPACE, toResolve.id)).toMatchObject({ status: 'resolved' });
    expect((await store.issue(DEFAULT_WORKSPACE, toResolve.id))!.timeline.map((t) => t.kind)).toContain(
      'issue.resolved',
    );
    expect((await store.issue(DEFAULT_WORKSPACE, toAssign.id))!.assignee).toMatchObject({ type: 'user', id: member });
    await expectMemoryMatches(store.db, emu);
  });
});

describe('a hostile API', () => {
  // Chaos: 10% 5xx, 5% 429, 3% dropped connections, random latency, and every access token expiring mid-run.
  it.each([5, 17, 29])(
    'chaos (seed %i) is absorbed: the sync completes and equals a clean sync',
    async (seed) => {
      const faults = {
        serverErrorRate: 0.1,
        rateLimitRate: 0.05,
        rateLimitRetryAfterSeconds: 0.05,
        dropRate: 0.03,
        latencyJitterMs: 15,
      };
      const emu = await startEmulator({
        seed,
        issues: 120,
        projects: 2,
        rateLimit: { perSecond: 400, concurrent: 6 },
        faults,
      });
      const [chaotic, clean] = [await createTestDatabase(), await createTestDatabase()];
      const store = await MemoryStore.open(chaotic.location);
      const reference = await MemoryStore.open(clean.location);
      try {
        const { provider } = await installationProvider(emu);
        let expired = false;
        const sync = syncFor(emu, store, {
          tokens: provider,
          // 13% of requests fail retryably: with the default 4 retries, five failures in a row somewhere in
          // ~500 requests would happen about once in 50 runs. The point here is absorbing chaos, not the retry cap.
          maxRetries: 10,
          onProgress: (p) => {
            // Mid-sync, every access token dies: the next requests get 401s and must refresh.
            if (p.stream === 'issues' && p.pages === 1 && !expired) {
              expired = true;
              emu.expireTokens();
            }
          },
        });
        const summary = await sync.run();
        expect(expired).toBe(true);
        expect(Math.min(emu.stats.serverErrors, emu.stats.dropped, emu.stats.rateLimited)).toBeGreaterThan(0);
        expect(emu.stats.refreshes).toBeGreaterThanOrEqual(1);
        expect(summary.retries).toBeGreaterThan(0);
        expect(summary.rateLimited).toBeGreaterThan(0);
        expect(summary.rateLimitWaitMs).toBeGreaterThan(0);
        await expectMemoryMatches(store.db, emu);

        // The reference syncs through the same chaos (the emulator's faults stay on): the same retry cap.
        await syncFor(emu, reference, { maxRetries: 10 }).run();
        expect(await memorySnapshot(store.db)).toEqual(await memorySnapshot(reference.db));
      } finally {
        await store.close();
        await reference.close();
        await emu.close();
        await chaotic.cleanup();
        await clean.cleanup();
      }
    },
    60_000,
  );

  it('429s from a rate limit shared with another tool are waited out without losing a page', async () => {
    const emu = await startEmulator({ seed: 6, issues: 80, rateLimit: { perSecond: 40 } });
    const db = await createTestDatabase();
    const store = await MemoryStore.open(db.location);
    // Another program using the same token spends three quarters of the per-caller budget (30 of
    // 40 requests a second, sent on a clock whatever the answers), so the window runs out every second.
    const sent: Promise<unknown>[] = [];
    const neighbour = setInterval(() => {
      sent.push(
        fetch(`${emu.url}/api/0/organizations/${emu.orgSlug}/projects/`, {
          headers: { Authorization: `Bearer ${emu.internalToken}` },
        }).then((r) => r.arrayBuffer()),
      );
    }, 1000 / 30);
    try {
      const summary = await syncFor(emu, store).run();
      expect(emu.stats.rateLimited).toBeGreaterThan(0);
      expect(summary.rateLimitWaitMs).toBeGreaterThan(0);
      await expectMemoryMatches(store.db, emu);
    } finally {
      clearInterval(neighbour);
      await Promise.all(sent);
      await store.close();
      await emu.close();
      await db.cleanup();
    }
  }, 60_000);

  it('two concurrent requests on an expired token cause exactly one refresh', async () => {
    const emu = await startEmulator({ seed: 2, issues: 5 });
    try {
      const { provider } = await installationProvider(emu);
      const client = new SentryApiClient({ baseUrl: emu.url, tokens: provider });
      emu.expireTokens();
      const [a, b] = await Promise.all([
        client.get(`/api/0/organizations/${emu.orgSlug}/projects/`),
        client.get(`/api/0/organizations/${emu.orgSlug}/teams/`),
      ]);
      expect(a.data).toHaveLength(emu.data.projects.length);
      expect(b.data).toHaveLength(emu.data.teams.length);
      expect(emu.stats.refreshes).toBe(1);
    } finally {
      await emu.close();
    }
  });
});

describe('pacing', () => {
  // 40/s: each page's event and activity fetches span several windows. 10/s: below the 25 allowed in
  // flight, where each new window used to start with an unknown budget and send up to 25 before the first answer.
  it.each([
    { perSecond: 40, issues: 60 },
    { perSecond: 10, issues: 15 },
  ])(
    "a backfill at $perSecond requests/s and 25 in flight stays within Sentry's limits: no 429s, every issue stored",
    async ({ perSecond, issues }) => {
      const emu = await startEmulator({ seed: 3, issues, latencyMs: 5, rateLimit: { perSecond, concurrent: 25 } });
      const db = await createTestDatabase();
      const store = await MemoryStore.open(db.location);
      try {
        const summary = await syncFor(emu, store, { streams: ['issues'] }).run();
        expect(summary.requests).toBeGreaterThan(3 * perSecond);
        expect(emu.stats.rateLimited).toBe(0);
        expect((await store.counts(DEFAULT_WORKSPACE)).issues).toBe(issues);
      } finally {
        await store.close();
        await emu.close();
        await db.cleanup();
      }
    },
  );
});

describe('since', () => {
  it('a first sync only reaches back to --since', async () => {
    const emu = await startEmulator({ seed: 4, issues: 300, rateLimit: { perSecond: 100_000 } });
    const db = await createTestDatabase();
    const store = await MemoryStore.open(db.location);
    try {
      const since = new Date(Date.now() - 30 * 86400_000).toISOString();
      await syncFor(emu, store, { since }).run();
      const expected = emu.data.issues.filter((i) => i.lastSeen >= since).length;
      expect(expected).toBeGreaterThan(0);
      expect(expected).toBeLessThan(300);
      expect((await store.counts(DEFAULT_WORKSPACE)).issues).toBe(expected);
    } finally {
      await store.close();
      await emu.close();
      await db.cleanup();
    }
  });
});
