import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver, startTestService } from '../helpers/runtime.js';

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
  const created = webhookFixture('issue.created').json as { data: { issue: Record<string, unknown> } } & Record<string, unknown>;
  const issueAs = (action: string, changes: Record<string, unknown>) =>
    JSON.stringify({ ...created, action, data: { issue: { ...created.data.issue, ...changes } } });
  const comment = webhookFixture('comment.created').json as { data: Record<string, unknown> } & Record<string, unknown>;
  const alert = webhookFixture('event_alert.triggered').json as { data: { event: Record<string, unknown> } } & Record<string, unknown>;
  const jane = { type: 'user', id: '42', name: 'Jane Developer', email: 'jane@example.com' };
  const steps: Omit<Step, 'timestamp'>[] = [
    { resource: 'issue', requestId: 'story-1', body: webhookFixture('issue.created').raw },
    { resource: 'issue', requestId: 'story-2', body: issueAs('assigned', { assignedTo: jane, count: '3' }) },
    { resource: 'comment', requestId: 'story-3', body: JSON.stringify({ ...comment, data: { ...comment.data, issue_id: Number(ISSUE_ID), project_slug: 'front-end', comment: 'Looks like the runner bundle, deploy 42', timestamp: new Date((start + 60) * 1000).toISOString() } }) },
    { resource: 'event_alert', requestId: 'story-4', body: JSON.stringify({ ...alert, data: { ...alert.data, event: { ...alert.data.event, issue_id: ISSUE_ID } } }) },
    { resource: 'issue', requestId: 'story-5', body: issueAs('resolved', { assignedTo: jane, status: 'resolved', substatus: null, statusDetails: { inRelease: 'front-end@1.4.0' }, count: '7' }) },
    { resource: 'issue', requestId: 'story-6', body: issueAs('unresolved', { assignedTo: jane, status: 'unresolved', substatus: 'regressed', count: '9', lastSeen: '2019-08-21T10:00:00.000000Z' }) },
  ];
  return steps.map((s, i) => ({ ...s, timestamp: start + i * 30 }));
}

/** Everything the memory holds, minus storage details (row ids, when the inbox processed). */
function snapshot(db: import('better-sqlite3').Database): Record<string, unknown[]> {
  const tables = ['issues', 'events', 'comments', 'alerts', 'insights', 'projects', 'observations'];
  const state: Record<string, unknown[]> = {};
  for (const table of tables) state[table] = db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
  state.search = db.prepare('SELECT kind, ref_id, issue_id, project_slug, occurred_at, title, body FROM search_docs ORDER BY kind, ref_id').all();
  return state;
}

async function play(steps: Step[], options: { drainEach: boolean }) {
  const service = await startTestService();
  try {
    for (const step of steps) {
      const response = await deliver(service.app, step.resource, step.body, { requestId: step.requestId, timestamp: step.timestamp });
      expect(response.statusCode).toBe(200);
      if (options.drainEach) service.runtime.worker.drain();
    }
    service.runtime.worker.drain();
    expect(service.runtime.inbox.countsByState(ws)).toMatchObject({ pending: 0, dead: 0, skipped: 0 });
    return { state: snapshot(service.runtime.store.db.raw), issue: service.runtime.store.issue(ws, ISSUE_ID) };
  } finally {
    await service.close();
  }
}

describe('a whole story converges whatever the order', () => {
  const steps = story(Math.floor(Date.now() / 1000) - 200);

  it('in order: regressed, assigned, commented, alerted, with the full timeline', async () => {
    const { issue } = await play(steps, { drainEach: true });
    expect(issue).toMatchObject({ status: 'unresolved', substatus: 'regressed', count: 9, lastSeen: '2019-08-21T10:00:00.000Z', assignee: { type: 'user', id: '42', name: 'Jane Developer' } });
    expect(issue!.comments).toEqual([expect.objectContaining({ text: 'Looks like the runner bundle, deploy 42', author: 'colleen' })]);
    expect(issue!.alerts).toEqual([expect.objectContaining({ title: 'Very Important Alert Rule!', state: 'triggered' })]);
    expect(issue!.timeline.map((t) => t.kind)).toEqual(['issue.created', 'issue.assigned', 'comment.created', 'alert.triggered', 'issue.resolved', 'issue.regressed']);
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
