import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { listWorkspaces } from '../../src/memory/workspaces.js';
import { ConnectionRepository } from '../../src/sentry/auth/connections.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { createTestDatabase, scalar } from '../helpers/database.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 11, issues: 40, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  await emu.close();
});

const key = randomBytes(32);

describe('serve --workspace-per-installation: activation and sync per workspace', () => {
  it('two installs of the public integration each get a workspace whose connection is activated and synced there', async () => {
    const db = await createTestDatabase();
    const env = {
      SENTRY_CLIENT_SECRET: emu.clientSecret,
      SENTRY_CLIENT_ID: emu.clientId,
      SENTRY_URL: emu.url,
      SENTRY_MEMORY_ENCRYPTION_KEY: key.toString('hex'),
    };
    const serve = await startServe(['--db', db.location, '--since', '2000-01-01', '--workspace-per-installation'], env);
    try {
      emu.webhookUrl = `${serve.url}/webhooks/sentry`;
      const first = await emu.createInstallation();
      const second = await emu.createInstallation();
      // Both installations belong to the emulator's one organization: the second workspace gets a suffix.
      const expected = [emu.orgSlug, `${emu.orgSlug}-2`];
      const workspaces = await waitFor(
        'both workspaces synced',
        async () => {
          const store = await MemoryStore.open(db.location);
          try {
            const tenants = (await listWorkspaces(store.db)).filter((w) => expected.includes(w.id));
            return tenants.length === 2 && tenants.every((w) => w.issues === emu.data.issues.length)
              ? tenants
              : undefined;
          } finally {
            await store.close();
          }
        },
        60_000,
      );
      const installed = new Set(workspaces.flatMap((w) => w.installations.map((i) => i.externalId)));
      expect(installed).toEqual(new Set([first.uuid, second.uuid]));
      const store = await MemoryStore.open(db.location);
      try {
        for (const w of workspaces) {
          const connections = await new ConnectionRepository(store.db, w.id, key).active();
          expect(connections.map((c) => c.auth.kind === 'installation' && c.auth.installationUuid)).toEqual([
            w.installations[0].externalId,
          ]);
          const synced = await scalar<number>(
            store.db,
            'SELECT count(*) FROM sync_checkpoints WHERE workspace_id = ?',
            w.id,
          );
          expect(synced).toBeGreaterThan(0);
        }
        // Nothing of the installations landed in the configured (default) workspace.
        expect((await store.counts('default')).issues).toBe(0);
      } finally {
        await store.close();
      }
    } finally {
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      await db.cleanup();
    }
  });
});
