import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../src/runtime.js';
import { webhookFixtures } from './helpers/fixtures.js';
import { applyWebhookFixtures } from './helpers/runtime.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const runtime = await openRuntime({ db: db.location });
  await applyWebhookFixtures(runtime);
  await runtime.close();
});
afterAll(async () => {
  await db.cleanup();
});

describe('sentry-memory CLI', () => {
  it('search --json: ranked objects with kind, id, title, occurredAt', () => {
    const { status, stdout } = runCli(['search', 'blooopy', '--db', db.location, '--json']);
    expect(status).toBe(0);
    const hits = JSON.parse(stdout);
    expect(hits[0]).toMatchObject({
      kind: 'issue',
      id: '1170820242',
      title: 'FRONT-END-9 ReferenceError: blooopy is not defined',
      occurredAt: '2019-08-19T20:58:37.391Z',
      project: 'front-end',
      status: 'unresolved',
    });
    for (const hit of hits)
      expect(Object.keys(hit)).toEqual(expect.arrayContaining(['kind', 'id', 'title', 'occurredAt']));
  });

  it('search filters by project, status and since', () => {
    const search = (...args: string[]) =>
      JSON.parse(runCli(['search', 'blooopy', '--db', db.location, '--json', ...args]).stdout) as unknown[];
    expect(search('--project', 'FRONT-END').length).toBeGreaterThan(0);
    expect(search('--project', 'backend')).toEqual([]);
    expect(search('--status', 'resolved')).toEqual([]);
    expect(search('--since', '7d')).toEqual([]);
    expect(search('--since', '2019-01-01').length).toBeGreaterThan(0);
  });

  it('search finds comments and Seer insights; FTS syntax in the query is harmless', () => {
    const comment = JSON.parse(runCli(['search', 'adding a comment', '--db', db.location, '--json']).stdout);
    expect(comment[0]).toMatchObject({ kind: 'comment', id: '1234' });
    const seer = JSON.parse(runCli(['search', 'Woah bug', '--db', db.location, '--json']).stdout);
    expect(seer[0]).toMatchObject({ kind: 'insight', issueId: '1170820242' });
    const weird = runCli(['search', '"unbalanced AND (NEAR', '--db', db.location, '--json']);
    expect(weird.status).toBe(0);
  });

  it('search --kinds observation: timeline entries (lifecycle facts), which the default search leaves out', () => {
    const facts = JSON.parse(
      runCli(['search', 'alert fired', '--kinds', 'observation', '--db', db.location, '--json']).stdout,
    );
    expect(facts[0]).toMatchObject({
      kind: 'observation',
      issueId: '1117540176',
      title: expect.stringContaining('Very Important Alert Rule!'),
    });
    const mixed = JSON.parse(runCli(['search', 'alert fired', '--db', db.location, '--json']).stdout) as {
      kind: string;
    }[];
    expect(mixed.map((h) => h.kind)).not.toContain('observation');
  });

  it('issue <shortId> --json: the issue with comments and timeline', () => {
    const { status, stdout } = runCli(['issue', 'FRONT-END-9', '--db', db.location, '--json']);
    expect(status).toBe(0);
    const issue = JSON.parse(stdout);
    expect(issue).toMatchObject({
      id: '1170820242',
      shortId: 'FRONT-END-9',
      status: 'unresolved',
      level: 'error',
      project: 'front-end',
      firstSeen: '2019-08-19T20:58:37.391Z',
      count: 1,
      userCount: 1,
      assignee: null,
      comments: [],
    });
    expect(issue.timeline.map((t: { kind: string }) => t.kind)).toContain('issue.created');
    expect(issue.timeline.every((t: { occurredAt: string }) => typeof t.occurredAt === 'string')).toBe(true);
  });

  it('issue --as-of: the issue then; a time before it existed exits 2 and says when it appeared', () => {
    const then = runCli(['issue', 'FRONT-END-9', '--as-of', '2020-01-01T00:00:00Z', '--db', db.location, '--json']);
    expect(then.status).toBe(0);
    expect(JSON.parse(then.stdout)).toMatchObject({ status: 'unresolved', asOf: { at: '2020-01-01T00:00:00.000Z' } });
    const early = runCli(['issue', 'FRONT-END-9', '--as-of', '2019-01-01T00:00:00Z', '--db', db.location]);
    expect(early.status).toBe(2);
    expect(early.stderr).toMatch(/first seen 2019-08-19T20:58:37.391Z/);
  });

  it('issue: unknown id exits 1 with a message', () => {
    const { status, stderr } = runCli(['issue', 'NOPE-1', '--db', db.location]);
    expect(status).toBe(1);
    expect(stderr).toMatch(/no issue "NOPE-1"/);
  });

  it('status --json: inbox by state and records by kind', () => {
    const { status, stdout } = runCli(['status', '--db', db.location, '--json']);
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.inbox).toEqual({ pending: 0, processed: webhookFixtures().length, skipped: 0, dead: 0, held: 0 });
    expect(report.records).toMatchObject({ issues: 2, events: 2, comments: 1, alerts: 2, insights: 4, connections: 1 });
  });

  it('bad usage exits 2', () => {
    expect(runCli(['search', 'x', '--since', 'yesterday-ish', '--db', db.location]).status).toBe(2);
    expect(runCli(['nonsense']).status).toBe(2);
  });
});
