import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { ConnectionRepository } from '../../src/sentry/auth/connections.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { runCliAsync, startServe, waitForExit } from '../helpers/cli.js';
import { createTestDatabase, scalar } from '../helpers/database.js';
import { randomBytes } from 'node:crypto';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 9, issues: 60, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  await emu.close();
});

const key = randomBytes(32);

describe('public integration: installation.created to a syncing connection', () => {
  it('serve trades the webhook code for tokens, marks the install, stores them encrypted and syncs', async () => {
    const db = await createTestDatabase();
    const env = {
      SENTRY_CLIENT_SECRET: emu.clientSecret,
      SENTRY_CLIENT_ID: emu.clientId,
      SENTRY_URL: emu.url,
      SENTRY_MEMORY_ENCRYPTION_KEY: key.toString('hex'),
    };
    const serve = await startServe(['--db', db.location, '--since', '2000-01-01'], env);
    try {
      emu.webhookUrl = `${serve.url}/webhooks/sentry`;
      const { uuid } = await emu.createInstallation();
      const deadline = Date.now() + 20_000;
      let issues = 0;
      while (Date.now() < deadline && issues < emu.data.issues.length) {
        await new Promise((r) => setTimeout(r, 200));
        const store = await MemoryStore.open(db.location);
        issues = (await store.counts(DEFAULT_WORKSPACE)).issues;
        await store.close();
      }
      expect(issues).toBe(emu.data.issues.length);
      const store = await MemoryStore.open(db.location);
      try {
        const repository = new ConnectionRepository(store.db, DEFAULT_WORKSPACE, key);
        const [connection] = await repository.active();
        expect(connection).toMatchObject({
          orgSlug: emu.orgSlug,
          auth: { kind: 'installation', installationUuid: uuid },
        });
        // Encrypted at rest: the raw row holds no token.
        const raw = await scalar<string>(store.db, 'SELECT credentials FROM connections');
        expect(connection.auth.kind === 'installation' && raw.includes(connection.auth.credentials.accessToken)).toBe(
          false,
        );
      } finally {
        await store.close();
      }
      expect(serve.output()).not.toContain(emu.clientSecret);
    } finally {
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      await db.cleanup();
    }
  });
});

describe('OAuth 2.0: connect --oauth', () => {
  it('prints the authorize URL, receives the redirect, checks state, exchanges the code, and sync works', async () => {
    const db = await createTestDatabase();
    try {
      const env = {
        SENTRY_CLIENT_SECRET: emu.clientSecret,
        SENTRY_CLIENT_ID: emu.clientId,
        SENTRY_MEMORY_ENCRYPTION_KEY: key.toString('hex'),
      };
      const connecting = runCliAsync(
        ['connect', '--url', emu.url, '--org', emu.orgSlug, '--oauth', '--db', db.location, '--json'],
        env,
        async (stderr) => {
          const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\/\S+)/.exec(stderr)?.[1];
          if (!url) return false;
          // The user approves in a browser; the emulator approves at once and redirects with code and state.
          const approved = await fetch(url, { redirect: 'manual' });
          const callback = approved.headers.get('location')!;
          expect(new URL(callback).searchParams.get('state')).toBe(new URL(url).searchParams.get('state'));
          const forged = new URL(callback);
          forged.searchParams.set('state', 'forged');
          expect((await fetch(forged)).status).toBe(400);
          expect((await fetch(callback)).status).toBe(200);
          return true;
        },
      );
      const result = await connecting;
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ organization: emu.orgSlug, auth: 'oauth' });
      const sync = await runCliAsync(['sync', '--since', '2000-01-01', '--db', db.location, '--json'], env);
      expect(sync.status, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout).streams.issues.items).toBe(emu.data.issues.length);
    } finally {
      await db.cleanup();
    }
  });
});
