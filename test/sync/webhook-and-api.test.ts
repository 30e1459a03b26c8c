import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { rows as query } from '../helpers/database.js';
import { startTestService, type TestService } from '../helpers/runtime.js';
import { expectMemoryMatches, syncFor } from '../helpers/sync.js';

const ws = DEFAULT_WORKSPACE;
let emu: Emulator;
let service: TestService;

beforeAll(async () => {
  emu = await startEmulator({ seed: 8, issues: 120, rateLimit: { perSecond: 100_000 } });
  service = await startTestService({ secrets: [emu.clientSecret] });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const address = service.app.server.address();
  emu.webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/sentry`;
});
afterAll(async () => {
  await service?.close();
  await emu?.close();
});

const rows = (sql: string, ...params: unknown[]) => query(service.runtime.store.db, sql, ...params);

describe('the same fact from a webhook and from the API', () => {
  it('is stored once: comments, status transitions and issues converge with the emulator', async () => {
    await syncFor(emu, service.runtime.store).run();
    const issue = emu.data.issues.find((i) => i.status === 'unresolved')!;

    const { id: commentId } = await emu.addComment(issue.id, 'Rolled back checkout-api, watching the error rate');
    await emu.resolveIssue(issue.id);
    expect(emu.webhookDeliveries.filter((d) => d.status === 200)).toHaveLength(2);
    await service.runtime.worker.drain();
    expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ processed: 2, dead: 0 });
    expect(await service.runtime.store.issue(ws, issue.id)).toMatchObject({ status: 'resolved' });

    // The API now reports the same comment (as an activity note) and the same resolution.
    await syncFor(emu, service.runtime.store).reconcile();
    expect(await rows('SELECT id, text FROM comments WHERE id = ?', commentId)).toEqual([
      { id: commentId, text: 'Rolled back checkout-api, watching the error rate' },
    ]);
    expect(
      await rows("SELECT id FROM observations WHERE type = 'comment.created' AND subject_id = ?", commentId),
    ).toHaveLength(1);
    expect(
      await rows("SELECT id FROM observations WHERE type = 'issue.resolved' AND issue_id = ?", issue.id),
    ).toHaveLength(1);
    await expectMemoryMatches(service.runtime.store.db, emu);
  });
});

describe('a webhook and the API within one second', () => {
  it('the finer activity time holds until the next sync reads the later change', async () => {
    // A frozen whole second, recent enough for the receiver's replay window; the test moves it.
    const second = (Math.floor(Date.now() / 1000) - 30) * 1000;
    let clock = second;
    const frozen = await startEmulator({ seed: 9, issues: 30, now: () => clock, rateLimit: { perSecond: 100_000 } });
    const receiver = await startTestService({ secrets: [frozen.clientSecret] });
    try {
      await receiver.app.listen({ port: 0, host: '127.0.0.1' });
      const address = receiver.app.server.address();
      frozen.webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/sentry`;
      const store = receiver.runtime.store;
      await syncFor(frozen, store).run();
      const issue = frozen.data.issues.find((i) => i.status === 'unresolved')!;
      // Seen just now, so that reconciling (which re-lists recently seen issues) reads it.
      clock = second + 100;
      await frozen.recordEvent(issue.id);

      // Resolved at .200; the sync reads it (dated .200 by the activity log) before the worker gets to
      // the webhook (dated by its whole second).
      clock = second + 200;
      await frozen.resolveIssue(issue.id);
      await syncFor(frozen, store).reconcile();
      await receiver.runtime.worker.drain();
      expect(await store.issue(ws, issue.id)).toMatchObject({ status: 'resolved' });

      // Regressed at .700 of the same second. Its webhook gives only the second, read as its start, so
      // the API's .200 outranks it: a whole second cannot tell whether it was sent before .200 or after.
      clock = second + 700;
      await frozen.recordEvent(issue.id);
      expect(frozen.webhookDeliveries.filter((d) => d.status === 200).map((d) => `${d.resource}.${d.action}`)).toEqual([
        'error.created',
        'issue.resolved',
        'issue.unresolved',
        'error.created',
      ]);
      await receiver.runtime.worker.drain();
      expect(await store.issue(ws, issue.id)).toMatchObject({ status: 'resolved' });

      // The next sync reads the regression, dated .700 by the activity log.
      expect(issue).toMatchObject({ status: 'unresolved', substatus: 'regressed' });
      await syncFor(frozen, store).reconcile();
      expect(await store.issue(ws, issue.id)).toMatchObject({ status: 'unresolved', substatus: 'regressed' });
    } finally {
      await receiver.close();
      await frozen.close();
    }
  });
});
