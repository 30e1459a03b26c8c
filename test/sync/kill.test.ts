import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { repoRoot, runCliAsync, waitForExit } from '../helpers/cli.js';
import { tempDbPath } from '../helpers/runtime.js';
import { ALL_HISTORY, expectMemoryMatches, memorySnapshot, syncFor } from '../helpers/sync.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 21, issues: 1200, latencyMs: 3, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  await emu.close();
});

function issuesCheckpoint(path: string): { cursor: string | null; state: string } | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT cursor, state FROM sync_checkpoints WHERE stream = 'issues'").get() as { cursor: string | null; state: string } | undefined;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

describe('sentry-memory sync killed mid-way', () => {
  it('kill -9 during the issues stream, then a re-run: memory is identical to an uninterrupted sync', async () => {
    const killed = tempDbPath();
    const reference = tempDbPath();
    try {
      const env = { SENTRY_AUTH_TOKEN: emu.internalToken };
      const connect = await runCliAsync(['connect', '--url', emu.url, '--org', emu.orgSlug, '--db', killed.path, '--json'], env);
      expect(connect.status, connect.stderr).toBe(0);
      expect(JSON.parse(connect.stdout)).toMatchObject({ organization: emu.orgSlug, auth: 'internal' });

      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sync', '--since', ALL_HISTORY, '--db', killed.path], { cwd: repoRoot, env: { ...process.env, ...env } });
      let checkpoint = issuesCheckpoint(killed.path);
      while (!(checkpoint?.cursor && JSON.parse(checkpoint.state).phase === 'running')) {
        if (child.exitCode !== null) throw new Error('sync finished before it could be killed');
        await new Promise((r) => setTimeout(r, 10));
        checkpoint = issuesCheckpoint(killed.path);
      }
      child.kill('SIGKILL');
      await waitForExit(child);
      const partial = new MemoryStore(killed.path);
      const partialIssues = partial.counts('default').issues;
      partial.close();
      expect(partialIssues).toBeGreaterThan(0);
      expect(partialIssues).toBeLessThan(emu.data.issues.length);

      const rerun = await runCliAsync(['sync', '--since', ALL_HISTORY, '--db', killed.path, '--json'], env);
      expect(rerun.status, rerun.stderr).toBe(0);
      const summary = JSON.parse(rerun.stdout);
      // It resumed: the issues it had stored were not listed again.
      expect(summary.streams.issues.items).toBeLessThan(emu.data.issues.length);
      expect(summary).toMatchObject({ organization: emu.orgSlug, requests: expect.any(Number), rateLimited: 0, durationMs: expect.any(Number) });

      const store = new MemoryStore(reference.path);
      await syncFor(emu, store).run();
      const expected = memorySnapshot(store.db.raw);
      store.close();
      const resumed = new MemoryStore(killed.path);
      expect(memorySnapshot(resumed.db.raw)).toEqual(expected);
      expectMemoryMatches(resumed.db.raw, emu);
      resumed.close();
    } finally {
      killed.cleanup();
      reference.cleanup();
    }
  });
});
