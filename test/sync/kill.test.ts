import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { repoRoot, runCliAsync, waitForExit } from '../helpers/cli.js';
import { createTestDatabase, ENGINE_ENV, rows, TEST_ENGINE } from '../helpers/database.js';
import { ALL_HISTORY, expectSameAsCleanSync } from '../helpers/sync.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 21, issues: 1200, latencyMs: 3, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  await emu.close();
});

async function issuesCheckpoint(db: MemoryDatabase): Promise<{ cursor: string | null; state: string } | undefined> {
  try {
    const [row] = await rows<{ cursor: string | null; state: string }>(
      db,
      "SELECT cursor, state FROM sync_checkpoints WHERE stream = 'issues'",
    );
    return row;
  } catch {
    return undefined;
  }
}

// PostgreSQL writes each record in its own round trip: its syncs of 1,200 issues take about twice as long as SQLite's.
const timeout = TEST_ENGINE === 'postgres' ? 150_000 : 90_000;

describe('sentry-memory sync killed mid-way', () => {
  it(
    'kill -9 during the issues stream, then a re-run: memory is identical to an uninterrupted sync',
    async () => {
      const killed = await createTestDatabase();
      const reference = await createTestDatabase();
      try {
        const env = { SENTRY_AUTH_TOKEN: emu.internalToken };
        const connect = await runCliAsync(
          ['connect', '--url', emu.url, '--org', emu.orgSlug, '--db', killed.location, '--json'],
          env,
        );
        expect(connect.status, connect.stderr).toBe(0);
        expect(JSON.parse(connect.stdout)).toMatchObject({ organization: emu.orgSlug, auth: 'internal' });

        // The memory exists now (connect created it): watch it from this process while the sync runs.
        const watcher = await MemoryStore.open(killed.location);
        try {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', 'src/cli/main.ts', 'sync', '--since', ALL_HISTORY, '--db', killed.location],
            {
              cwd: repoRoot,
              env: { ...process.env, ...ENGINE_ENV, ...env },
            },
          );
          let checkpoint = await issuesCheckpoint(watcher.db);
          while (!(checkpoint?.cursor && (JSON.parse(checkpoint.state) as { phase?: string }).phase === 'running')) {
            if (child.exitCode !== null) throw new Error('sync finished before it could be killed');
            await new Promise((r) => setTimeout(r, 10));
            checkpoint = await issuesCheckpoint(watcher.db);
          }
          child.kill('SIGKILL');
          await waitForExit(child);
        } finally {
          await watcher.close();
        }
        const partial = await MemoryStore.open(killed.location);
        const partialIssues = (await partial.counts('default')).issues;
        await partial.close();
        expect(partialIssues).toBeGreaterThan(0);
        expect(partialIssues).toBeLessThan(emu.data.issues.length);

        const rerun = await runCliAsync(['sync', '--since', ALL_HISTORY, '--db', killed.location, '--json'], env);
        expect(rerun.status, rerun.stderr).toBe(0);
        const summary = JSON.parse(rerun.stdout);
        // It resumed: the issues it had stored were not listed again.
        expect(summary.streams.issues.items).toBeLessThan(emu.data.issues.length);
        expect(summary).toMatchObject({
          organization: emu.orgSlug,
          requests: expect.any(Number),
          rateLimited: 0,
          durationMs: expect.any(Number),
        });

        await expectSameAsCleanSync(emu, reference.location, killed.location);
      } finally {
        await killed.cleanup();
        await reference.cleanup();
      }
    },
    timeout,
  );
});
