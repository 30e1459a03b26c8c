import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { runCli, startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { SECRET, sentryHeaders, tempDbPath } from '../helpers/runtime.js';

const db = tempDbPath();
afterEach(() => db.cleanup());

/** Reads the inbox row of a delivery through a separate connection, as an operator's tool would. */
function inboxRow(deliveryId: string) {
  const store = new MemoryStore(db.path);
  try {
    return store.db.raw.prepare('SELECT * FROM inbox WHERE delivery_id = ?').get(deliveryId) as { seq: number; state: string; attempts: number; last_error: string | null } | undefined;
  } finally {
    store.close();
  }
}

const settled = (deliveryId: string) => () => {
  const row = inboxRow(deliveryId);
  return row && row.state !== 'pending' ? row : undefined;
};

describe('poison deliveries', () => {
  it('end dead with their error after bounded retries, show in status and `inbox show`, and `inbox retry` re-queues them after the fix', async () => {
    // The failure: every comment write is refused (a migration gone wrong), so processing the
    // verified comment.created delivery fails on each attempt.
    const setup = new MemoryStore(db.path);
    setup.db.raw.exec("CREATE TRIGGER refuse_comments BEFORE INSERT ON comments BEGIN SELECT RAISE(ABORT, 'comments are read-only during maintenance'); END");
    setup.close();

    const serve = await startServe(['--db', db.path, '--retry-base', '10', '--sync-interval', 'off'], { SENTRY_CLIENT_SECRET: SECRET });
    try {
      const send = async (resource: string, body: string, requestId: string) => {
        const response = await fetch(`${serve.url}/webhooks/sentry`, { method: 'POST', body, headers: sentryHeaders(resource, body, { requestId }) });
        expect(response.status).toBe(200);
      };
      const comment = webhookFixture('comment.created');
      await send('comment', comment.raw, 'poison-comment');
      // Signed and valid JSON, but not the shape of an issue delivery: the mapper cannot use it.
      await send('issue', JSON.stringify({ action: 'created', installation: { uuid: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de' }, data: { issue: { title: 42 } } }), 'poison-shape');
      await send('issue', webhookFixture('issue.created').raw, 'healthy');

      const dead = await waitFor('the comment delivery to be dead-lettered', settled('poison-comment'));
      expect(dead).toMatchObject({ state: 'dead', attempts: 5, last_error: 'comments are read-only during maintenance' });
      // A malformed payload cannot get better by retrying: dead on the first attempt.
      const malformed = await waitFor('the malformed delivery to be dead-lettered', settled('poison-shape'));
      expect(malformed).toMatchObject({ state: 'dead', attempts: 1 });
      expect(malformed.last_error).toMatch(/issue/i);
      expect(await waitFor('the healthy delivery', settled('healthy'))).toMatchObject({ state: 'processed' });

      const status = runCli(['status', '--db', db.path]);
      expect(status.status).toBe(0);
      expect(status.stdout).toContain(`dead #${dead.seq} comment.created: comments are read-only during maintenance`);
      expect(status.stdout).toContain(`dead #${malformed.seq} issue.created: ${malformed.last_error}`);

      const shown = runCli(['inbox', 'show', String(dead.seq), '--db', db.path]);
      expect(shown.status).toBe(0);
      expect(shown.stdout).toContain(`delivery #${dead.seq} in workspace ${DEFAULT_WORKSPACE}`);
      expect(shown.stdout).toContain('resource: comment.created');
      expect(shown.stdout).toContain('delivery id: poison-comment');
      expect(shown.stdout).toContain('state: dead after 5 attempts');
      expect(shown.stdout).toContain('last error: comments are read-only during maintenance');
      expect(shown.stdout).toContain((comment.json.data as { comment: string }).comment);
      const json = JSON.parse(runCli(['inbox', 'show', String(dead.seq), '--db', db.path, '--json']).stdout);
      expect(json).toMatchObject({ seq: dead.seq, workspace_id: DEFAULT_WORKSPACE, resource: 'comment', action: 'created', delivery_id: 'poison-comment', state: 'dead', attempts: 5 });
      expect(json.body).toEqual(comment.json);

      // Bad requests are refused with a reason and change nothing.
      const unknown = runCli(['inbox', 'show', '999999', '--db', db.path]);
      expect(unknown).toMatchObject({ status: 1, stderr: expect.stringContaining('no delivery #999999') });
      expect(runCli(['inbox', 'retry', '--db', db.path])).toMatchObject({ status: 2, stderr: expect.stringContaining('either a delivery number or --dead') });
      expect(runCli(['inbox', 'retry', 'first', '--db', db.path])).toMatchObject({ status: 2, stderr: expect.stringContaining('expected a delivery number') });
      const healthySeq = inboxRow('healthy')!.seq;
      expect(runCli(['inbox', 'retry', String(healthySeq), '--db', db.path])).toMatchObject({ status: 2, stderr: expect.stringContaining('is processed') });
      expect(inboxRow('poison-comment')).toMatchObject({ state: 'dead', attempts: 5 });

      // The fix, then the retry: the running server's worker picks the delivery up again.
      const fix = new MemoryStore(db.path);
      fix.db.raw.exec('DROP TRIGGER refuse_comments');
      fix.close();
      const retried = runCli(['inbox', 'retry', String(dead.seq), '--db', db.path]);
      expect(retried).toMatchObject({ status: 0, stdout: 're-queued 1 delivery\n' });
      expect(await waitFor('the retried comment', settled('poison-comment'))).toMatchObject({ state: 'processed', attempts: 1 });
      const store = new MemoryStore(db.path);
      expect(store.counts(DEFAULT_WORKSPACE)).toMatchObject({ comments: 1 });
      store.close();

      // --dead re-queues what is still dead; a payload nothing can map goes dead again, on its first attempt.
      expect(runCli(['inbox', 'retry', '--dead', '--db', db.path])).toMatchObject({ status: 0, stdout: 're-queued 1 delivery\n' });
      expect(await waitFor('the malformed delivery again', settled('poison-shape'))).toMatchObject({ state: 'dead', attempts: 1, last_error: malformed.last_error });
      const inbox = new MemoryStore(db.path);
      expect(new Inbox(inbox.db).countsByState(DEFAULT_WORKSPACE)).toEqual({ pending: 0, processed: 2, skipped: 0, dead: 1, held: 0 });
      inbox.close();
    } finally {
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
    }
  });
});
