import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator } from '../../src/sentry/emulator/index.js';
import { repoRoot, runCliAsync, waitFor } from '../helpers/cli.js';
import { createTestDatabase, ENGINE_ENV, scalar } from '../helpers/database.js';
import { ALL_HISTORY, expectSameAsCleanSync } from '../helpers/sync.js';

async function leaseHolderPid(db: MemoryDatabase): Promise<number | undefined> {
  try {
    return await scalar<number | undefined>(db, 'SELECT pid FROM sync_leases WHERE finished_at IS NULL');
  } catch {
    return undefined;
  }
}

function runSync(location: string, env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'sync', '--since', ALL_HISTORY, '--db', location, '--json'],
    {
      cwd: repoRoot,
      env: { ...process.env, ...ENGINE_ENV, ...env },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (status) => resolve({ status, stdout, stderr })),
  );
  return { child, exited, stderr: () => stderr };
}

describe('two `sync` processes on one memory', () => {
  it('exactly one syncs; the other waits, says so, follows it and exits 0', async () => {
    const emu = await startEmulator({ seed: 13, issues: 200, latencyMs: 5 });
    const [shared, clean] = [await createTestDatabase(), await createTestDatabase()];
    try {
      const env = { SENTRY_AUTH_TOKEN: emu.internalToken };
      const connect = await runCliAsync(
        ['connect', '--url', emu.url, '--org', emu.orgSlug, '--db', shared.location],
        env,
      );
      expect(connect.status, connect.stderr).toBe(0);
      const requestsBefore = emu.stats.requests;

      // Sentry stalls once the first sync holds the lease, until the second has said it waits: the
      // two are certain to overlap however slowly either process starts.
      const first = runSync(shared.location, env);
      const release = emu.hold();
      // The memory exists now (connect created it): watch its lease from this process.
      const watcher = await MemoryStore.open(shared.location);
      try {
        while ((await leaseHolderPid(watcher.db)) !== first.child.pid) {
          if (first.child.exitCode !== null)
            throw new Error(`the first sync ended before the second started:\n${(await first.exited).stderr}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await watcher.close();
      }
      const second = runSync(shared.location, env);
      await waitFor(
        'the second sync to say it waits',
        () => (second.stderr().includes('waiting for it to finish') ? true : undefined),
        30_000,
      );
      release();
      const [a, b] = await Promise.all([first.exited, second.exited]);

      expect(a.status, a.stderr).toBe(0);
      expect(b.status, b.stderr).toBe(0);
      expect(b.stderr).toContain(
        `another sync of connection sentry:org:${emu.orgSlug} is running (pid ${first.child.pid}`,
      );
      expect(b.stderr).toContain('waiting for it to finish');
      const ran = JSON.parse(a.stdout);
      const followed = JSON.parse(b.stdout);
      expect(ran.followed).toBeUndefined();
      expect(followed).toEqual({
        ...ran,
        followed: {
          pid: first.child.pid,
          host: expect.any(String),
          startedAt: expect.any(String),
          finishedAt: expect.any(String),
        },
      });
      // Only the first one called Sentry.
      expect(emu.stats.requests - requestsBefore).toBe(ran.requests);

      await expectSameAsCleanSync(emu, clean.location, shared.location);
    } finally {
      await emu.close();
      await shared.cleanup();
      await clean.cleanup();
    }
  }, 90_000);
});
