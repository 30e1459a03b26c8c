import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { runCliAsync, startServe, waitForExit } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const INTERVAL_MS = 2000;
const RUN_MS = 7000;

let emu: Emulator;
let db: TestDatabase;
beforeAll(async () => {
  emu = await startEmulator({ seed: 5, issues: 40, rateLimit: { perSecond: 100_000 } });
  db = await createTestDatabase();
});
afterAll(async () => {
  await emu.close();
  await db.cleanup();
});

/** When each sync that a process finished had started (ms). */
function syncsStarted(output: string): number[] {
  return output
    .split('\n')
    .filter((line) => line.includes('"sync finished"'))
    .map((line) => Date.parse((JSON.parse(line) as { startedAt: string }).startedAt));
}

describe('two serve instances with schedulers on one database', () => {
  it('each connection syncs once per interval, and an expired token is refreshed once', async () => {
    const key = randomBytes(32).toString('hex');
    const env = {
      SENTRY_CLIENT_SECRET: emu.clientSecret,
      SENTRY_CLIENT_ID: emu.clientId,
      SENTRY_MEMORY_ENCRYPTION_KEY: key,
    };
    // A public-integration install: 8-hour tokens with a single-use refresh token.
    const { uuid, code } = await emu.createInstallation();
    const connected = await runCliAsync(
      [
        'connect',
        '--url',
        emu.url,
        '--org',
        emu.orgSlug,
        '--installation',
        uuid,
        '--code',
        code,
        '--db',
        db.location,
        '--json',
      ],
      env,
    );
    expect(connected.status, connected.stderr).toBe(0);
    emu.expireTokens();
    const refreshesBefore = emu.stats.refreshes;

    const args = ['--db', db.location, '--since', '2000-01-01', '--sync-interval', `${INTERVAL_MS / 1000}s`];
    const runStart = Date.now();
    const first = await startServe(args, env);
    const second = await startServe(args, env);
    await new Promise((r) => setTimeout(r, RUN_MS));
    const ranMs = Date.now() - runStart;
    for (const p of [first, second]) p.child.kill('SIGTERM');
    await Promise.all([first, second].map((p) => waitForExit(p.child)));

    const started = [...syncsStarted(first.output()), ...syncsStarted(second.output())].sort((a, b) => a - b);
    const failures = `${first.output()}\n${second.output()}`
      .split('\n')
      .filter((line) => line.includes('"sync failed'));
    expect(failures).toEqual([]);
    // Both schedulers tick every interval; together they sync the connection about once per interval, not twice.
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect(started.length).toBeLessThanOrEqual(Math.ceil(ranMs / INTERVAL_MS) + 1);
    // A sync starts only when none started within 0.9 of an interval (whichever process runs it).
    for (let i = 1; i < started.length; i++) expect(started[i] - started[i - 1]).toBeGreaterThan(INTERVAL_MS * 0.85);
    // The expired token was refreshed by one process, once: nobody spent the rotated refresh token again.
    expect(emu.stats.refreshes - refreshesBefore).toBe(1);
  }, 60_000);
});
