import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { rows } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver, startTestService, type TestService } from '../helpers/runtime.js';

const ws = DEFAULT_WORKSPACE;
const ISSUE_ID = '1170820242';

interface Step {
  resource: string;
  body: string;
  requestId: string;
  timestamp: number;
}

/** The story, built from the real fixtures with the changes each step makes: created → assigned → comment → alert → resolved → regressed. */
function story(start: number): Step[] {
  const created = webhookFixture('issue.created').json as { data: { issue: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
  const issueAs = (action: string, changes: Record<string, unknown>) =>
    JSON.stringify({ ...created, action, data: { issue: { ...created.data.issue, ...changes } } });
  const comment = webhookFixture('comment.created').json as { data: Record<string, unknown> } & Record<string, unknown>;
  const alert = webhookFixture('event_alert.triggered').json as { data: { event: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
  const jane = { type: 'user', id: '42', name: 'Jane Developer', email: 'jane@example.com' };
  const steps: Omit<Step, 'timestamp'>[] = [
    { resource: 'issue', requestId: 'story-1', body: webhookFixture('issue.created').raw },
    { resource: 'issue', requestId: 'story-2', body: issueAs('assigned', { assignedTo: jane, count: '3' }) },
    {
      resource: 'comment',
      requestId: 'story-3',
      body: JSON.stringify({
        ...comment,
        data: {
          ...comment.data,
          issue_id: Number(ISSUE_ID),
          project_slug: 'front-end',
          comment: 'Looks like the runner bundle, deploy 42',
          timestamp: new Date((start + 60) * 1000).toISOString(),
        },
      }),
    },
    {
      resource: 'event_alert',
      requestId: 'story-4',
      body: JSON.stringify({ ...alert, data: { ...alert.data, event: { ...alert.data.event, issue_id: ISSUE_ID } } }),
    },
    {
      resource: 'issue',
      requestId: 'story-5',
      body: issueAs('resolved', {
        assignedTo: jane,
        status: 'resolved',
        substatus: null,
        statusDetails: { inRelease: 'front-end@1.4.0' },
        count: '7',
      }),
    },
    {
      resource: 'issue',
      requestId: 'story-6',
      body: issueAs('unresolved', {
        assignedTo: jane,
        status: 'unresolved',
        substatus: 'regressed',
        count: '9',
        lastSeen: '2019-08-21T10:00:00.000000Z',
      }),
    },
  ];
  return steps.map((s, i) => ({ ...s, timestamp: start + i * 30 }));
}

/**
 * Everything the memory holds, minus storage details: row ids, when the inbox processed, and the
 * versions behind values, which carry the delivery order that broke same-time ties.
 */
async function snapshot(db: MemoryDatabase): Promise<Record<string, unknown[]>> {
  const tables = ['issues', 'events', 'comments', 'alerts', 'insights', 'projects', 'observations'];
  const state: Record<string, unknown[]> = {};
  for (const table of tables) {
    state[table] = (await rows(db, `SELECT * FROM ${table} ORDER BY 1, 2`)).map((row) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => !/(^|_)version$/.test(column))),
    );
  }
  state.search = await rows(
    db,
    'SELECT kind, ref_id, issue_id, project_slug, occurred_at, title, body FROM search_docs ORDER BY kind, ref_id',
  );
  return state;
}

async function play(steps: Step[], options: { drainEach: boolean }) {
  const service = await startTestService();
  try {
    for (const step of steps) {
      const response = await deliver(service.app, step.resource, step.body, {
        requestId: step.requestId,
        timestamp: step.timestamp,
      });
      expect(response.statusCode).toBe(200);
      if (options.drainEach) await service.runtime.worker.drain();
    }
    await service.runtime.worker.drain();
    expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ pending: 0, dead: 0, skipped: 0 });
    return { state: await snapshot(service.runtime.store.db), issue: await service.runtime.store.issue(ws, ISSUE_ID) };
  } finally {
    await service.close();
  }
}

describe('a whole story converges whatever the order', () => {
  const steps = story(Math.floor(Date.now() / 1000) - 200);

  it('in order: regressed, assigned, commented, alerted, with the full timeline', async () => {
    const { issue } = await play(steps, { drainEach: true });
    expect(issue).toMatchObject({
      status: 'unresolved',
      substatus: 'regressed',
      count: 9,
      lastSeen: '2019-08-21T10:00:00.000Z',
      assignee: { type: 'user', id: '42', name: 'Jane Developer' },
    });
    expect(issue!.comments).toEqual([
      expect.objectContaining({ text: 'Looks like the runner bundle, deploy 42', author: 'colleen' }),
    ]);
    expect(issue!.alerts).toEqual([
      expect.objectContaining({ title: 'Very Important Alert Rule!', state: 'triggered' }),
    ]);
    expect(issue!.timeline.map((t) => t.kind)).toEqual([
      'issue.created',
      'issue.assigned',
      'comment.created',
      'alert.triggered',
      'issue.resolved',
      'issue.regressed',
    ]);
  });

  it('shuffled, with duplicates, drained at any point: the same final state', async () => {
    const reference = (await play(steps, { drainEach: true })).state;
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }),
        fc.array(fc.nat({ max: steps.length - 1 }), { maxLength: 4 }),
        fc.boolean(),
        async (shuffled, duplicateIndexes, drainEach) => {
          const withDuplicates = [...shuffled, ...duplicateIndexes.map((i) => shuffled[i])];
          const { state } = await play(withDuplicates, { drainEach });
          expect(state).toEqual(reference);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the same facts under new Request-IDs (redelivered by hand) still converge', async () => {
    const reference = (await play(steps, { drainEach: true })).state;
    const redelivered = [...steps, ...steps.map((s) => ({ ...s, requestId: `${s.requestId}-again` }))].reverse();
    expect((await play(redelivered, { drainEach: false })).state).toEqual(reference);
  });
});

/** One delivery of an incident story; comment bodies carry their creation time, which falls in the second they are sent. */
interface StoryStep {
  resource: string;
  requestId: string;
  body: (sentSecond: number) => string;
}

type IssueEnding = 'resolved' | 'ignored' | 'regressed';

/**
 * A third-party incident story for one issue, from the real fixtures: created → assigned → a comment
 * posted and edited, another posted and deleted → Seer's root cause started and completed → resolved
 * (or ignored, or resolved and then regressed).
 */
function incident(issueId: string, ending: IssueEnding): StoryStep[] {
  const created = webhookFixture('issue.created').json as { data: { issue: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
  const issue = { ...created.data.issue, id: issueId, shortId: `FRONT-END-${issueId}` };
  const issueAs = (action: string, changes: Record<string, unknown>) => () =>
    JSON.stringify({ ...created, action, data: { issue: { ...issue, ...changes } } });
  const comment = webhookFixture('comment.created').json as { data: Record<string, unknown> } & Record<string, unknown>;
  const commentAs = (action: string, commentId: string, text: string | null) => (sentSecond: number) =>
    JSON.stringify({
      ...comment,
      action,
      data: {
        ...comment.data,
        comment_id: Number(commentId),
        issue_id: Number(issueId),
        project_slug: 'front-end',
        comment: text,
        timestamp: new Date(sentSecond * 1000 + 118).toISOString(),
      },
    });
  const seer = (name: string) => () => {
    const fixture = webhookFixture(name).json as { data: Record<string, unknown> } & Record<string, unknown>;
    return JSON.stringify({
      ...fixture,
      data: { ...fixture.data, group_id: Number(issueId), run_id: Number(`${issueId}1`) },
    });
  };
  const jane = { type: 'user', id: '42', name: 'Jane Developer', email: 'jane@example.com' };
  const edited = `${issueId}1`;
  const removed = `${issueId}2`;
  const steps: Omit<StoryStep, 'requestId'>[] = [
    { resource: 'issue', body: issueAs('created', {}) },
    { resource: 'issue', body: issueAs('assigned', { assignedTo: jane }) },
    // Edited to a text that sorts before the original, so only delivery order can make it win.
    { resource: 'comment', body: commentAs('created', edited, 'Paging on-call: checkout is down') },
    { resource: 'comment', body: commentAs('updated', edited, 'Checkout is down since deploy 42') },
    { resource: 'comment', body: commentAs('created', removed, 'Wrong issue, ignore me') },
    { resource: 'comment', body: commentAs('deleted', removed, 'Wrong issue, ignore me') },
    { resource: 'seer', body: seer('seer.root_cause_started') },
    { resource: 'seer', body: seer('seer.root_cause_completed') },
  ];
  if (ending === 'ignored')
    steps.push({
      resource: 'issue',
      body: issueAs('ignored', { assignedTo: jane, status: 'ignored', substatus: 'archived_until_escalating' }),
    });
  else
    steps.push({
      resource: 'issue',
      body: issueAs('resolved', {
        assignedTo: jane,
        status: 'resolved',
        substatus: null,
        statusDetails: { inRelease: 'front-end@1.4.0' },
      }),
    });
  if (ending === 'regressed')
    steps.push({
      resource: 'issue',
      body: issueAs('unresolved', { assignedTo: jane, status: 'unresolved', substatus: 'regressed' }),
    });
  return steps.map((s, i) => ({ ...s, requestId: `${issueId}-${i}` }));
}

const endings: Record<IssueEnding, { status: string; substatus: string | null }> = {
  resolved: { status: 'resolved', substatus: null },
  ignored: { status: 'ignored', substatus: 'archived_until_escalating' },
  regressed: { status: 'unresolved', substatus: 'regressed' },
};

/** Delivers the steps through the webhook route, in order, each with the Sentry-Hook-Timestamp it is given, then drains once. */
async function deliverAll(service: TestService, steps: readonly { step: StoryStep; second: number }[]): Promise<void> {
  for (const { step, second } of steps) {
    const response = await deliver(service.app, step.resource, step.body(second), {
      requestId: step.requestId,
      timestamp: second,
    });
    expect(response.statusCode).toBe(200);
  }
  await service.runtime.worker.drain();
  expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ pending: 0, dead: 0, skipped: 0 });
}

async function expectEnded(service: TestService, issueId: string, ending: IssueEnding): Promise<void> {
  const issue = await service.runtime.store.issue(ws, issueId);
  expect(issue, issueId).toMatchObject({
    ...endings[ending],
    assignee: { type: 'user', id: '42', name: 'Jane Developer' },
  });
  expect(
    issue!.comments.map((c) => c.text),
    issueId,
  ).toEqual(['Checkout is down since deploy 42']);
  expect(
    issue!.insights.map((i) => [i.stage, i.state]),
    issueId,
  ).toEqual([['root_cause', 'completed']]);
}

describe('facts sent within one second (Sentry-Hook-Timestamp has whole seconds)', () => {
  const second = Math.floor(Date.now() / 1000) - 100;

  it.each<IssueEnding>(['resolved', 'ignored', 'regressed'])(
    'a story delivered in order in one second ends %s',
    async (ending) => {
      const service = await startTestService();
      try {
        await deliverAll(
          service,
          incident('2001', ending).map((step) => ({ step, second })),
        );
        await expectEnded(service, '2001', ending);
      } finally {
        await service.close();
      }
    },
  );

  it('issue.created delivered after a resolution and an assignment of the same second does not undo them', async () => {
    const [created, , , , , , , , resolved] = incident('2002', 'resolved');
    const service = await startTestService();
    try {
      await deliverAll(
        service,
        [resolved, created].map((step) => ({ step, second })),
      );
      expect(await service.runtime.store.issue(ws, '2002')).toMatchObject({
        status: 'resolved',
        substatus: null,
        assignee: { type: 'user', id: '42' },
      });
    } finally {
      await service.close();
    }
  });

  it('eight stories for eight issues, interleaved in quick succession, all end right', async () => {
    const stories = Array.from({ length: 8 }, (_, i) => ({
      issueId: String(3001 + i),
      ending: (['resolved', 'ignored', 'regressed'] as const)[i % 3],
    }));
    // Each story starts five steps after the one before, so they overlap; about twenty deliveries a
    // second, so some steps of a story share a second and some do not.
    const interleaved = stories
      .flatMap(({ issueId, ending }, k) => incident(issueId, ending).map((step, j) => ({ step, tick: j + 5 * k, k })))
      .sort((a, b) => a.tick - b.tick || a.k - b.k)
      .map(({ step }, i) => ({ step, second: second + Math.floor(i / 20) }));
    const service = await startTestService();
    try {
      await deliverAll(service, interleaved);
      for (const { issueId, ending } of stories) await expectEnded(service, issueId, ending);
    } finally {
      await service.close();
    }
  });
});

describe('an issue glimpsed only through its events', () => {
  const now = Math.floor(Date.now() / 1000) - 100;
  const error = webhookFixture('error.created');
  const alert = webhookFixture('event_alert.triggered').json as { data: { event: Record<string, unknown> } } & Record<
    string,
    unknown
  >;
  /** The alert's (different) event, moved onto the error's issue, at the given time. */
  const alertOnIssue = (timestamp: number) =>
    JSON.stringify({
      ...alert,
      data: {
        ...alert.data,
        event: {
          ...alert.data.event,
          issue_id: ISSUE_ID,
          timestamp,
          datetime: new Date(timestamp * 1000).toISOString(),
        },
      },
    });
  const errorStep: Step = { resource: 'error', requestId: 'glimpse-error', body: error.raw, timestamp: now };
  const errorTime = (error.json as { data: { error: { timestamp: number } } }).data.error.timestamp;

  it.each([
    ['a later event', errorTime + 60],
    ['an event at the same time', errorTime],
  ])('with %s, both delivery orders give the same issue', async (_, alertTime) => {
    const alertStep: Step = {
      resource: 'event_alert',
      requestId: 'glimpse-alert',
      body: alertOnIssue(alertTime),
      timestamp: now,
    };
    const forward = await play([errorStep, alertStep], { drainEach: true });
    const backward = await play([alertStep, errorStep], { drainEach: true });
    expect(backward.state.issues).toEqual(forward.state.issues);
    if (alertTime > errorTime) expect(forward.issue?.title).toBe(alert.data.event.title);
  });
});
