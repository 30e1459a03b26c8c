import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { getIssueContext } from '../../src/memory/context/issue-context.js';
import { QueryError } from '../../src/memory/context/errors.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver, startTestService, type TestService } from '../helpers/runtime.js';
import { syncFor } from '../helpers/sync.js';

const ws = DEFAULT_WORKSPACE;
const MINUTE = 60_000;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What Sentry's API says of the issue at one moment: the ground truth an `asOf` answer of that moment must equal. */
interface Moment {
  at: string;
  status: string;
  substatus: string | null;
  assignee: string | null;
  priority: string;
  count: number;
  comments: string[];
}

let clock = EPOCH + 60 * MINUTE;
let emu: Emulator;
let service: TestService;
let issueId: string;
let firstSeen: string;
const moments: Moment[] = [];

async function api(path: string): Promise<Json> {
  const response = await fetch(`${emu.url}/api/0/organizations/${emu.orgSlug}/issues/${issueId}/${path}`, {
    headers: { authorization: `Bearer ${emu.internalToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** Records what the emulator's API says now, then moves the clock on before the next change. */
async function observe(): Promise<void> {
  const issue = await api('');
  const notes = (await api('comments/')) as unknown as Json[];
  moments.push({
    at: new Date(clock + MINUTE).toISOString(),
    status: issue.status,
    substatus: issue.substatus ?? null,
    assignee: issue.assignedTo ? String(issue.assignedTo.id) : null,
    priority: issue.priority,
    count: Number(issue.count),
    comments: notes.map((n) => n.data.text as string).sort(),
  });
  clock += 10 * MINUTE;
}

beforeAll(async () => {
  emu = await startEmulator({
    seed: 21,
    issues: 20,
    now: () => clock,
    epoch: EPOCH,
    rateLimit: { perSecond: 100_000 },
  });
  // The receiver's clock is the emulator's: its webhook signatures are dated by it.
  service = await startTestService({ secrets: [emu.clientSecret], now: () => clock });
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const address = service.app.server.address();
  emu.webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/sentry`;

  // The issue's life, each step through Sentry's webhooks as they happen.
  const created = await emu.createIssue();
  issueId = created.id;
  firstSeen = new Date(created.firstSeen).toISOString();
  await observe();
  const [alice, bob] = emu.data.users;
  await emu.assignIssue(issueId, { type: 'user', id: alice.id });
  await observe();
  await emu.addComment(issueId, 'Looking into the checkout timeout', alice.id);
  await observe();
  await emu.resolveIssue(issueId, alice.id);
  await observe();
  await emu.recordEvent(issueId); // a regression: unresolved again
  await observe();
  await emu.assignIssue(issueId, { type: 'user', id: bob.id });
  await emu.addComment(issueId, 'Regressed after the rollback; taking it', bob.id);
  await observe();
  expect(emu.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
  await service.runtime.worker.drain();
  // And the API's view of the same history, which must not blur what the webhooks recorded.
  await syncFor(emu, service.runtime.store).reconcile();
});
afterAll(async () => {
  await service?.close();
  await emu?.close();
});

describe('an issue as of a time', () => {
  it('equals what Sentry said at that time: status, substatus, assignee, priority and comments', async () => {
    expect(moments.map((m) => m.status)).toEqual([
      'unresolved',
      'unresolved',
      'unresolved',
      'resolved',
      'unresolved',
      'unresolved',
    ]);
    for (const moment of moments) {
      const then = await getIssueContext(service.runtime.store.db, ws, issueId, clock, { asOf: moment.at });
      expect(
        {
          status: then.status,
          substatus: then.substatus,
          assignee: then.assignee?.id ?? null,
          priority: then.priority,
          comments: then.comments.map((c) => c.text).sort(),
        },
        moment.at,
      ).toEqual({
        status: moment.status,
        substatus: moment.substatus,
        assignee: moment.assignee,
        priority: moment.priority,
        comments: moment.comments,
      });
      expect(then.asOf?.at).toBe(moment.at);
      expect(then.statusHistory.every((h) => h.occurredAt <= moment.at)).toBe(true);
    }
  });

  it('has the counts Sentry reported at the last issue webhook before that time', async () => {
    // The resolution's webhook (moment 3) carries the issue's count then; the regression's event comes after.
    const resolved = moments[3];
    const then = await getIssueContext(service.runtime.store.db, ws, issueId, clock, { asOf: resolved.at });
    expect(then.count).toBe(resolved.count);
    const now = await getIssueContext(service.runtime.store.db, ws, issueId, clock);
    expect(now.count).toBe(moments.at(-1)!.count);
    expect(now.count).toBeGreaterThan(resolved.count);
  });

  it('without asOf is the present, and says it is not of a past time', async () => {
    const now = await getIssueContext(service.runtime.store.db, ws, issueId, clock);
    const last = moments.at(-1)!;
    expect(now.asOf).toBeNull();
    expect([now.status, now.assignee?.id, now.comments.length]).toEqual([last.status, last.assignee, 2]);
  });

  it('from an API sync alone, the status then follows the transitions of the activity log', async () => {
    const synced = await startTestService({ now: () => clock });
    try {
      await syncFor(emu, synced.runtime.store).run();
      for (const moment of moments) {
        const then = await getIssueContext(synced.runtime.store.db, ws, issueId, clock, { asOf: moment.at });
        expect(then.status, moment.at).toBe(moment.status);
      }
    } finally {
      await synced.close();
    }
  });

  it('before the issue existed is an error that says when it appeared', async () => {
    const before = new Date(Date.parse(firstSeen) - MINUTE).toISOString();
    const failure = getIssueContext(service.runtime.store.db, ws, issueId, clock, { asOf: before });
    await expect(failure).rejects.toThrow(QueryError);
    await expect(failure).rejects.toThrow(`first seen ${firstSeen}`);
  });
});

describe('a comment as of a time', () => {
  it('reads as posted, as edited, then gone, following the deliveries Sentry sent', async () => {
    let now = EPOCH;
    const receiver = await startTestService({ now: () => now });
    try {
      const issue = webhookFixture('issue.created').json as Json;
      const send = async (resource: string, body: Json) => {
        const response = await deliver(receiver.app, resource, JSON.stringify(body), {
          timestamp: Math.floor(now / 1000),
        });
        expect(response.statusCode).toBe(200);
      };
      await send('issue', issue);
      const comment = webhookFixture('comment.created').json as Json;
      const posted = new Date(now).toISOString();
      const data = { ...comment.data, issue_id: issue.data.issue.id, timestamp: posted };
      await send('comment', { ...comment, data });
      now += 10 * MINUTE;
      await send('comment', { ...comment, action: 'updated', data: { ...data, comment: 'edited: it was the cache' } });
      now += 10 * MINUTE;
      await send('comment', { ...comment, action: 'deleted', data });
      await receiver.runtime.worker.drain();

      const textAt = async (offset: number) =>
        (
          await getIssueContext(receiver.runtime.store.db, ws, issue.data.issue.id, now, {
            asOf: new Date(EPOCH + offset).toISOString(),
          })
        ).comments.map((c) => c.text);
      expect(await textAt(5 * MINUTE)).toEqual([data.comment]);
      expect(await textAt(15 * MINUTE)).toEqual(['edited: it was the cache']);
      expect(await textAt(25 * MINUTE)).toEqual([]);
      expect(await textAt(-MINUTE)).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
