import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../../src/agent/budget.js';
import { agentFixture, call, text } from '../../helpers/agent-service.js';

const fx = agentFixture();

describe('get_issue_context', () => {
  it('the fixture issue, with its comment-free context and Seer analysis', async () => {
    const issue = await call(fx.client, 'get_issue_context', { issue: 'FRONT-END-9' });
    expect(issue.structuredContent).toMatchObject({
      id: '1170820242',
      title: 'ReferenceError: blooopy is not defined',
      project: 'front-end',
      status: 'unresolved',
      count: 1,
      userCount: 1,
    });
    const seer = (issue.structuredContent as { seer: { stage: string; state: string }[] }).seer;
    expect(seer.map((s) => s.stage)).toEqual(expect.arrayContaining(['root_cause', 'solution', 'coding']));
    expect(text(issue)).toMatch(/^## FRONT-END-9: ReferenceError: blooopy is not defined/);
  });

  it('on an emulator issue: counts, releases and assignee as Sentry has them', async () => {
    const issue = fx.service.data.issues.find((i) => i.assignedTo?.type === 'user' && i.count > 50)!;
    const result = await call(fx.client, 'get_issue_context', { issue: issue.id });
    const user = fx.service.data.users.find((u) => u.id === issue.assignedTo!.id)!;
    expect(result.structuredContent).toMatchObject({
      id: issue.id,
      shortId: issue.shortId,
      count: issue.count,
      userCount: issue.userCount,
      firstRelease: issue.firstRelease,
      assignee: { name: user.name },
    });
  });

  it('the answer fits the token budget, and says how to see what was cut', async () => {
    const busy = fx.service.data.issues.find((i) => i.activity.filter((a) => a.type === 'note').length >= 2)!;
    const small = await call(fx.client, 'get_issue_context', { issue: busy.id, maxTokens: 200 });
    expect(estimateTokens(text(small))).toBeLessThanOrEqual(200);
    expect(text(small)).toContain(busy.shortId);
    expect((small.structuredContent as { truncated: { hint: string } }).truncated.hint).toMatch(/maxTokens/);
  });

  it('an issue not in memory is a tool error that says so', async () => {
    const unknown = await call(fx.client, 'get_issue_context', { issue: 'NOPE-1' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/no issue "NOPE-1" in memory/);
  });

  it('asOf: the issue as it was then, from its history — before and after Sentry resolved it', async () => {
    const issue = fx.service.data.issues.find(
      (i) => i.status === 'resolved' && i.activity.filter((a) => a.type.startsWith('set_')).length === 1,
    )!;
    const resolvedAt = Date.parse(issue.activity.find((a) => a.type === 'set_resolved')!.dateCreated);
    const asOf = (ms: number) =>
      call(fx.client, 'get_issue_context', { issue: issue.id, asOf: new Date(ms).toISOString() });
    const before = await asOf(resolvedAt - 60_000);
    expect(before.structuredContent).toMatchObject({
      status: 'unresolved',
      asOf: { at: new Date(resolvedAt - 60_000).toISOString() },
    });
    expect(text(before)).toMatch(/As of /);
    expect((await asOf(resolvedAt + 60_000)).structuredContent).toMatchObject({ status: 'resolved' });
    const beforeItExisted = await asOf(Date.parse(issue.firstSeen) - 60_000);
    expect(beforeItExisted.isError).toBe(true);
    expect(text(beforeItExisted)).toMatch(/did not exist yet/);
  });
});
