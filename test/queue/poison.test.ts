import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { runCli, startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { createTestDatabase, rows, type TestDatabase } from '../helpers/database.js';
import { allowComments, refuseComments } from '../helpers/refuse-writes.js';
import { SECRET, sentryHeaders } from '../helpers/runtime.js';

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.cleanup();
});

/** Reads the inbox row of a delivery through a separate connection, as an operator's tool would. */
async function inboxRow(deliveryId: string) {
  const store = await MemoryStore.open(db.location);
  try {
    const [row] = await rows<{ seq: number; state: string; attempts: number; last_error: string | null }>(
      store.db,
      'SELECT * FROM inbox WHERE delivery_id = ?',
      deliveryId,
    );
    return row;
  } finally {
    await store.close();
  }
}

const settled = (deliveryId: string) => async () => {
  const row = await inboxRow(deliveryId);
  return row && row.state !== 'pending' ? row : undefined;
};

describe('poison deliveries', () => {
  it('end dead with their error after bounded retries, show in status and `inbox show`, and `inbox retry` re-queues them after the fix', async () => {
    // The failure: every comment write is refused (a migration gone wrong), so processing the
    // verified comment.created delivery fails on each attempt.
    const setup = await MemoryStore.open(db.location);
    await refuseComments(setup.db);
    await setup.close();

    const serve = await startServe(['--db', db.location, '--retry-base', '10', '--sync-interval', 'off'], {
      SENTRY_CLIENT_SECRET: SECRET,
    });
    try {
      const send = async (resource: string, body: string, requestId: string) => {
        const response = await fetch(`${serve.url}/webhooks/sentry`, {
          method: 'POST',
          body,
          headers: sentryHeaders(resource, body, { requestId }),
        });
        expect(response.status).toBe(200);
      };
      const comment = webhookFixture('comment.created');
      await send('comment', comment.raw, 'poison-comment');
      // Signed and valid JSON, but not the shape of an issue delivery: the mapper cannot use it.
      await send(
        'issue',
        JSON.stringify({
          action: 'created',
          installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' },
          data: { issue: { title: 42 } },
        }),
        'poison-shape',
      );
      await send('issue', webhookFixture('issue.created').raw, 'healthy');

      const dead = await waitFor('the comment delivery to be dead-lettered', settled('poison-comment'));
      expect(dead).toMatchObject({
        state: 'dead',
        attempts: 5,
        last_error: 'comments are read-only during maintenance',
      });
      // A malformed payload cannot get better by retrying: dead on the first attempt.
      const malformed = await waitFor('the malformed delivery to be dead-lettered', settled('poison-shape'));
      expect(malformed).toMatchObject({ state: 'dead', attempts: 1 });
      expect(malformed.last_error).toMatch(/issue/i);
      expect(await waitFor('the healthy delivery', settled('healthy'))).toMatchObject({ state: 'processed' });

      const status = runCli(['status', '--db', db.location]);
      expect(status.status).toBe(0);
      expect(status.stdout).toContain(`dead #${dead.seq} comment.created: comments are read-only during maintenance`);
      expect(status.stdout).toContain(`dead #${malformed.seq} issue.created: ${malformed.last_error}`);

      const shown = runCli(['inbox', 'show', String(dead.seq), '--db', db.location]);
      expect(shown.status).toBe(0);
      expect(shown.stdout).toContain(`delivery #${dead.seq} in workspace ${DEFAULT_WORKSPACE}`);
      expect(shown.stdout).toContain('resource: comment.created');
      expect(shown.stdout).toContain('delivery id: poison-comment');
      expect(shown.stdout).toContain('state: dead after 5 attempts');
      expect(shown.stdout).toContain('last error: comments are read-only during maintenance');
      expect(shown.stdout).toContain((comment.json.data as { comment: string }).comment);
      const json = JSON.parse(runCli(['inbox', 'show', String(dead.seq), '--db', db.location, '--json']).stdout);
      expect(json).toMatchObject({
        seq: dead.seq,
        workspace_id: DEFAULT_WORKSPACE,
        resource: 'comment',
        action: 'created',
        delivery_id: 'poison-comment',
        state: 'dead',
        attempts: 5,
      });
      expect(json.body).toEqual(comment.json);

      // Bad requests are refused with a reason and change nothing.
      const unknown = runCli(['inbox', 'show', '999999', '--db', db.location]);
      expect(unknown).toMatchObject({ status: 1, stderr: expect.stringContaining('no delivery #999999') });
      expect(runCli(['inbox', 'retry', '--db', db.location])).toMatchObject({
        status: 2,
        stderr: expect.stringContaining('either a delivery number or --dead'),
      });
      expect(runCli(['inbox', 'retry', 'first', '--db', db.location])).toMatchObject({
        status: 2,
        stderr: expect.stringContaining('expected a delivery number'),
      });
      const healthySeq = (await inboxRow('healthy'))!.seq;
      expect(runCli(['inbox', 'retry', String(healthySeq), '--db', db.location])).toMatchObject({
        status: 2,
        stderr: expect.stringContaining('is processed'),
      });
      expect(await inboxRow('poison-comment')).toMatchObject({ state: 'dead', attempts: 5 });

      // The fix, then the retry: the running server's worker picks the delivery up again.
      const fix = await MemoryStore.open(db.location);
      await allowComments(fix.db);
      await fix.close();
      const retried = runCli(['inbox', 'retry', String(dead.seq), '--db', db.location]);
      expect(retried).toMatchObject({ status: 0, stdout: 're-queued 1 delivery\n' });
      expect(await waitFor('the retried comment', settled('poison-comment'))).toMatchObject({
        state: 'processed',
        attempts: 1,
      });
      const store = await MemoryStore.open(db.location);
      expect(await store.counts(DEFAULT_WORKSPACE)).toMatchObject({ comments: 1 });
      await store.close();

      // --dead re-queues what is still dead; a payload nothing can map goes dead again, on its first attempt.
      expect(runCli(['inbox', 'retry', '--dead', '--db', db.location])).toMatchObject({
        status: 0,
        stdout: 're-queued 1 delivery\n',
      });
      expect(await waitFor('the malformed delivery again', settled('poison-shape'))).toMatchObject({
        state: 'dead',
        attempts: 1,
        last_error: malformed.last_error,
      });
      const inbox = await MemoryStore.open(db.location);
      expect(await new Inbox(inbox.db).countsByState(DEFAULT_WORKSPACE)).toEqual({
        pending: 0,
        processed: 2,
        skipped: 0,
        dead: 1,
        held: 0,
      });
      await inbox.close();
    } finally {
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
    }
    // A dozen CLI processes, each starting TypeScript from source: slower than the default timeout on a busy machine.
  }, 90_000);
});
