import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator } from '../../src/sentry/emulator/index.js';
import { repoRoot, runCliAsync, waitFor } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/runtime.js';
import { ALL_HISTORY, expectMemoryMatches, memorySnapshot, syncFor } from '../helpers/sync.js';

function leaseHolderPid(path: string): number | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT pid FROM sync_leases WHERE finished_at IS NULL').pluck().get() as number | undefined;
  } catch {
    return undefined; // not migrated yet
  } finally {
    db.close();
  }
}

function runSync(dbPath: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sync', '--since', ALL_HISTORY, '--db', dbPath, '--json'], { cwd: repoRoot, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (status) => resolve({ status, stdout, stderr })));
  return { child, exited, stderr: () => stderr };
}

describe('two `sync` processes on one memory', () => {
  it('exactly one syncs; the other waits, says so, follows it and exits 0', async () => {
    const emu = await startEmulator({ seed: 13, issues: 200, latencyMs: 5 });
    const [shared, clean] = [tempDbPath(), tempDbPath()];
    try {
      const env = { SENTRY_AUTH_TOKEN: emu.internalToken };
      const connect = await runCliAsync(['connect', '--url', emu.url, '--org', emu.orgSlug, '--db', shared.path], env);
      expect(connect.status, connect.stderr).toBe(0);
      const requestsBefore = emu.stats.requests;

      // Sentry stalls once the first sync holds the lease, until the second has said it waits: the
      // two are certain to overlap however slowly either process starts.
      const first = runSync(shared.path, env);
      const release = emu.hold();
      while (leaseHolderPid(shared.path) !== first.child.pid) {
        if (first.child.exitCode !== null) throw new Error(`the first sync ended before the second started:\n${(await first.exited).stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const second = runSync(shared.path, env);
      await waitFor('the second sync to say it waits', () => (second.stderr().includes('waiting for it to finish') ? true : undefined), 30_000);
      release();
      const [a, b] = await Promise.all([first.exited, second.exited]);

      expect(a.status, a.stderr).toBe(0);
      expect(b.status, b.stderr).toBe(0);
      expect(b.stderr).toContain(`another sync of connection sentry:org:${emu.orgSlug} is running (pid ${first.child.pid}`);
      expect(b.stderr).toContain('waiting for it to finish');
      const ran = JSON.parse(a.stdout);
      const followed = JSON.parse(b.stdout);
      expect(ran.followed).toBeUndefined();
      expect(followed).toEqual({ ...ran, followed: { pid: first.child.pid, host: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String) } });
      // Only the first one called Sentry.
      expect(emu.stats.requests - requestsBefore).toBe(ran.requests);

      const reference = new MemoryStore(clean.path);
      await syncFor(emu, reference).run();
      const expected = memorySnapshot(reference.db.raw);
      reference.close();
      const store = new MemoryStore(shared.path);
      expect(memorySnapshot(store.db.raw)).toEqual(expected);
      expectMemoryMatches(store.db.raw, emu);
      store.close();
    } finally {
      await emu.close();
      shared.cleanup();
      clean.cleanup();
    }
  }, 90_000);
});
