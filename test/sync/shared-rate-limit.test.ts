import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator } from '../../src/sentry/emulator/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { expectMemoryMatches, memorySnapshot, syncFor } from '../helpers/sync.js';

describe('two memories syncing one organization under one shared rate limit', () => {
  it('both finish, and each equals a clean sync', async () => {
    // Sentry's limits belong to the token, which both memories use: neither can see what the other spends,
    // and each one's bursts at a window's start overshoot the shared budget (the old client gave up after four 429s).
    const emu = await startEmulator({ seed: 8, projects: 1, issues: 30, rateLimit: { perSecond: 15, concurrent: 25 } });
    const databases = await Promise.all([createTestDatabase(), createTestDatabase(), createTestDatabase()]);
    const [first, second, clean] = databases;
    const stores = await Promise.all([first, second].map((db) => MemoryStore.open(db.location)));
    const reference = await MemoryStore.open(clean.location);
    try {
      const summaries = await Promise.all(stores.map((store) => syncFor(emu, store).run()));
      // The limit was really contended (Sentry answered 429s), and every one is accounted for.
      expect(emu.stats.rateLimited).toBeGreaterThan(0);
      expect(summaries.reduce((sum, s) => sum + s.rateLimited, 0)).toBe(emu.stats.rateLimited);
      for (const summary of summaries) {
        expect(summary.rateLimitWaitMs).toBeGreaterThan(0);
        expect(summary.rateLimitWaitMs).toBeLessThanOrEqual(summary.durationMs);
      }

      await syncFor(emu, reference).run();
      await expectMemoryMatches(reference.db, emu);
      const expected = await memorySnapshot(reference.db);
      for (const store of stores) expect(await memorySnapshot(store.db)).toEqual(expected);
    } finally {
      for (const store of [...stores, reference]) await store.close();
      await emu.close();
      for (const db of databases) await db.cleanup();
    }
  }, 90_000);
});
