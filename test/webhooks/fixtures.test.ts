import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { webhookFixture, webhookFixtures } from '../helpers/fixtures.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { rows as query } from '../helpers/database.js';
import { deliver, SECRET, startTestService, type TestService } from '../helpers/runtime.js';

const ws = DEFAULT_WORKSPACE;
let service: TestService;

beforeEach(async () => {
  service = await startTestService();
});
afterEach(async () => {
  await service.close();
});

function rows(table: string): Promise<Record<string, unknown>[]> {
  return query(service.runtime.store.db, `SELECT * FROM ${table}`);
}

async function observations(): Promise<{ type: string; summary: string; issue_id: string | null }[]> {
  return (await rows('observations')) as never;
}

async function accept(name: string): Promise<void> {
  const fixture = webhookFixture(name);
  const response = await deliver(service.app, fixture.resource, fixture.raw);
  expect(response.statusCode, response.body).toBe(200);
  expect(await service.runtime.worker.drain()).toBe(1);
  expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ processed: 1, dead: 0, skipped: 0 });
}

describe('every fixture', () => {
  for (const fixture of webhookFixtures()) {
    it(`${fixture.name}: accepted when signed, rejected when one byte is tampered`, async () => {
      const bytes = Buffer.from(fixture.raw);
      for (const index of [0, Math.floor(bytes.length / 2), bytes.length - 2]) {
        const tampered = Buffer.from(bytes);
        tampered[index] ^= 0x01;
        // Signed over the original bytes, sent with one byte changed.
        const response = await deliver(service.app, fixture.resource, tampered, {
          headers: { 'sentry-hook-signature': signBody(SECRET, bytes) },
        });
        expect(response.statusCode).toBe(401);
      }
      expect(await rows('inbox')).toHaveLength(0);
      await accept(fixture.name);
    });
  }
});

describe('fixtures land in memory', () => {
  it('issue.created: the issue with status, level, counts, project and a "created" observation', async () => {
    await accept('issue.created');
    const issue = (await service.runtime.store.issue(ws, 'front-end-9'))!;
    expect(issue).toMatchObject({
      id: '1170820242',
      shortId: 'FRONT-END-9',
      title: 'ReferenceError: blooopy is not defined',
      status: 'unresolved',
      substatus: 'escalating',
      level: 'error',
      project: 'front-end',
      projectId: '1',
      count: 1,
      userCount: 1,
      errorType: 'ReferenceError',
      message: 'blooopy is not defined',
      culprit: '?(runner)',
      firstSeen: '2019-08-19T20:58:37.391Z',
      assignee: null,
    });
    expect(issue.timeline).toEqual([
      expect.objectContaining({ kind: 'issue.created', occurredAt: '2019-08-19T20:58:37.391Z' }),
    ]);
    expect(await rows('projects')).toEqual([
      expect.objectContaining({ id: '1', slug: 'front-end', name: 'front-end' }),
    ]);
  });

  it('error.created: the event with summary, tags, release, environment and top frames, not the full trace', async () => {
    await accept('error.created');
    const [event] = await rows('events');
    expect(event).toMatchObject({
      id: 'bb78c1407cea4519aa397afc059c793d',
      issue_id: '1170820242',
      project_id: '1',
      error_type: 'ReferenceError',
      error_value: 'blooopy is not defined',
      level: 'error',
      release: null,
      occurred_at: '2019-08-19T20:58:37.391Z',
    });
    expect(JSON.parse(String(event.tags))).toMatchObject({
      browser: 'Chrome 75.0.3770',
      handled: 'no',
      url: 'https://null.jsbin.com/runner',
    });
    const frames = JSON.parse(String(event.top_frames));
    expect(frames).toEqual([
      { filename: '/runner', function: null, module: 'runner', lineNo: 3, colNo: 5, inApp: false },
    ]);
    expect(String(event.top_frames)).not.toContain('pre_context');
    // The issue is known through its event until Sentry describes it.
    expect(await service.runtime.store.issue(ws, '1170820242')).toMatchObject({
      title: 'ReferenceError: blooopy is not defined',
      lastSeen: '2019-08-19T20:58:37.391Z',
    });
  });

  it('event_alert.triggered: the alert on its issue, the event, and an "alert fired" observation', async () => {
    await accept('event_alert.triggered');
    expect(await rows('alerts')).toEqual([
      expect.objectContaining({
        source: 'issue_alert',
        rule_name: 'Very Important Alert Rule!',
        issue_id: '1117540176',
        event_id: 'e4874d664c3540c1a32eab185f12c5ab',
        state: 'triggered',
      }),
    ]);
    expect(await rows('events')).toHaveLength(1);
    expect(await observations()).toEqual([
      expect.objectContaining({ type: 'alert.triggered', issue_id: '1117540176' }),
    ]);
    expect((await service.runtime.store.issue(ws, '1117540176'))!.alerts).toHaveLength(1);
  });

  it('metric_alert.resolved: incident state, rule, projects and the description with its line break', async () => {
    await accept('metric_alert.resolved');
    const [alert] = await rows('alerts');
    expect(alert).toMatchObject({
      id: 'metric_alert:4',
      source: 'metric_alert',
      rule_id: '7',
      rule_name: 'Too many errors',
      title: 'Resolved: Too many errors',
      state: 'resolved',
      url: 'https://sentry.io/organizations/baz/alerts/1/',
    });
    expect(alert.description).toBe('1000 events in the last 10 minutes\nFilter: level:error');
    expect(JSON.parse(String(alert.projects))).toEqual(['bar']);
    expect(await observations()).toEqual([expect.objectContaining({ type: 'alert.resolved' })]);
  });

  it('comment.created: the comment with its author on its issue, searchable', async () => {
    await accept('comment.created');
    expect(await rows('comments')).toEqual([
      expect.objectContaining({
        id: '1234',
        issue_id: '100',
        text: 'adding a comment',
        author_name: 'colleen',
        created_at: '2022-03-02T21:51:44.118Z',
        deleted: 0,
      }),
    ]);
    expect((await service.runtime.store.search(ws, { text: 'adding comment', now: EPOCH })).hits).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: 'comment', id: '1234', issueId: '100' })]),
    );
  });

  it('installation.created: a pending connection for the org', async () => {
    await accept('installation.created');
    expect(await rows('connections')).toEqual([
      expect.objectContaining({
        external_id: 'a8e5d37a-696c-4c54-adb5-b3f28d64c7de',
        org_slug: 'test-org',
        app_slug: 'webhooks-galore',
        state: 'pending',
      }),
    ]);
  });

  it('seer: each stage lands as an insight on the issue; completed is not undone by a late started', async () => {
    for (const name of [
      'seer.root_cause_completed',
      'seer.root_cause_started',
      'seer.solution_started',
      'seer.solution_completed',
      'seer.coding_started',
      'seer.coding_completed',
      'seer.pr_created',
    ]) {
      const fixture = webhookFixture(name);
      expect((await deliver(service.app, fixture.resource, fixture.raw)).statusCode).toBe(200);
    }
    await service.runtime.worker.drain();
    const insights = Object.fromEntries((await rows('insights')).map((r) => [r.stage, r]));
    expect(Object.keys(insights).sort()).toEqual(['coding', 'pr', 'root_cause', 'solution']);
    expect(insights.root_cause).toMatchObject({
      issue_id: '1170820242',
      run_id: '12345',
      state: 'completed',
      summary: "Woah wow there's a bug here.",
    });
    expect(JSON.parse(String(insights.root_cause.details))).toMatchObject({
      file: 'src/app/page.ts',
      repo: 'owner/repo',
    });
    expect(insights.solution).toMatchObject({ state: 'completed', summary: 'Definitely need to fix this.' });
    expect(insights.coding).toMatchObject({ state: 'completed', summary: 'fix: Initialize undefined variable' });
    expect(String(insights.coding.details)).not.toContain('<the diff as a string>');
    expect(insights.pr).toMatchObject({ summary: 'https://github.com/owner/repo/pull/123' });
  });

  it('the event of an error.created, seen again in an event_alert, lands once (no conflict in derived indexes)', async () => {
    const error = webhookFixture('error.created').json as { data: { error: Record<string, unknown> } };
    const alert = webhookFixture('event_alert.triggered').json as { data: { event: Record<string, unknown> } };
    const same = {
      event_id: 'bb78c1407cea4519aa397afc059c793d',
      issue_id: '1170820242',
      environment: 'production',
      release: 'front-end@1.2.0',
    };
    await deliver(
      service.app,
      'error',
      JSON.stringify({ ...error, data: { error: { ...error.data.error, ...same } } }),
    );
    await deliver(
      service.app,
      'event_alert',
      JSON.stringify({ ...alert, data: { ...alert.data, event: { ...alert.data.event, ...same } } }),
    );
    await service.runtime.worker.drain();
    expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ processed: 2, dead: 0 });
    expect((await rows('events')).map((e) => [e.id, e.environment])).toEqual([
      ['bb78c1407cea4519aa397afc059c793d', 'production'],
    ]);
  });
});
