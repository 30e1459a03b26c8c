import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { startServe, waitForExit } from '../helpers/cli.js';
import { webhookFixtures } from '../helpers/fixtures.js';
import { SECRET, sentryHeaders, tempDbPath } from '../helpers/runtime.js';

const db = tempDbPath();
afterEach(() => db.cleanup());

describe('nothing acknowledged is lost', () => {
  it('the process is killed (SIGKILL) after acknowledging and before processing; a restart processes everything', async () => {
    const env = { SENTRY_CLIENT_SECRET: SECRET };
    const first = await startServe(['--db', db.path, '--no-worker'], env);
    const fixtures = webhookFixtures();
    const acknowledged: string[] = [];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        fixtures.map(async (fixture) => {
          const requestId = `${fixture.name}#${round}`;
          const response = await fetch(`${first.url}/webhooks/sentry`, { method: 'POST', body: fixture.raw, headers: sentryHeaders(fixture.resource, fixture.raw, { requestId }) });
          if (response.status === 200) acknowledged.push(requestId);
        }),
      );
    }
    expect(acknowledged).toHaveLength(fixtures.length * 5);
    first.child.kill('SIGKILL');
    await waitForExit(first.child);

    const store = new MemoryStore(db.path);
    const inbox = new Inbox(store.db);
    expect(inbox.countsByState(DEFAULT_WORKSPACE)).toMatchObject({ pending: acknowledged.length, processed: 0 });
    store.close();

    const second = await startServe(['--db', db.path], env);
    try {
      const deadline = Date.now() + 15_000;
      let counts = { pending: -1, processed: 0, dead: 0, skipped: 0 };
      while (Date.now() < deadline) {
        counts = (await (await fetch(`${second.url}/healthz`)).json()).inbox;
        if (counts.pending === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(counts).toEqual({ pending: 0, processed: acknowledged.length, dead: 0, skipped: 0 });
    } finally {
      second.child.kill('SIGTERM');
      await waitForExit(second.child);
    }
    const after = new MemoryStore(db.path);
    expect(after.issue(DEFAULT_WORKSPACE, 'FRONT-END-9')?.title).toBe('ReferenceError: blooopy is not defined');
    expect(after.counts(DEFAULT_WORKSPACE)).toMatchObject({ comments: 1, alerts: 2, insights: 4 });
    after.close();
  });
});
