import { describe, expect, it } from 'vitest';
import type {
  CommentRecord,
  EventRecord,
  IssueRecord,
  IssueStatsRecord,
  ObservationRecord,
} from '../../src/memory/records.js';
import {
  eventSchema,
  issueSchema,
  releaseSchema,
  deploySchema,
  commitSchema,
  projectSchema,
  teamSchema,
  organizationSchema,
  activityListSchema,
  activitySchema,
} from '../../src/sentry/api/schemas.js';
import {
  mapActivity,
  mapApiCommit,
  mapApiDeploy,
  mapApiIssue,
  mapApiProject,
  mapApiRelease,
  mapApiTeam,
} from '../../src/sentry/mapping/api.js';
import { mapEvent } from '../../src/sentry/mapping/event.js';
import { apiFixture } from '../helpers/fixtures.js';

const at = '2026-01-01T00:00:00.000Z';
type Json = Record<string, unknown>;

/** Parsed by the client's schema, then mapped: the path a synced object takes. */
function issueRecords(name: string) {
  const parsed = issueSchema.parse(apiFixture(name)) as Json;
  // An empty activity log: state is versioned at the sync time.
  const records = mapApiIssue(parsed, at, { activities: [] });
  return { issue: records.find((r): r is IssueRecord => r.kind === 'issue')!, records };
}

const event = (name: string): EventRecord => mapEvent(eventSchema.parse(apiFixture(name)) as Json, at);

describe('API issues: event counts from their stats', () => {
  it('issue.json (details): its 24h stats as hourly and 30d as daily counts from their first bucket on, at the sync time', () => {
    const { records } = issueRecords('issue');
    const stats = records.filter((r): r is IssueStatsRecord => r.kind === 'issue_stats');
    const fixture = (apiFixture('issue') as { stats: Record<'24h' | '30d', [number, number][]> }).stats;
    expect(stats.map((s) => s.resolution).sort()).toEqual(['day', 'hour']);
    for (const [resolution, series] of [
      ['hour', fixture['24h']],
      ['day', fixture['30d']],
    ] as const) {
      const record = stats.find((s) => s.resolution === resolution)!;
      expect(record).toMatchObject({
        issueId: '6507376925',
        observedAt: at,
        coveredFrom: new Date(series[0][0] * 1000).toISOString(),
      });
      expect(record.buckets.map((b) => [Date.parse(b.start) / 1000, b.count])).toEqual(series);
    }
  });

  it('daily stats by their spacing (14d, 30d, auto), counts as strings tolerated; empty or uneven series left out', () => {
    const day = 86_400;
    const daily = (n: number) =>
      Array.from({ length: n }, (_, i) => [1_763_000_000 - (1_763_000_000 % day) + i * day, String(i)]);
    const issue = {
      ...(apiFixture('issue') as Json),
      stats: {
        '30d': daily(30),
        auto: daily(14),
        odd: [
          [0, 1],
          [7, 2],
        ],
      },
    };
    const stats = mapApiIssue(issueSchema.parse(issue) as Json, at).filter(
      (r): r is IssueStatsRecord => r.kind === 'issue_stats',
    );
    expect(stats.map((s) => [s.resolution, s.buckets.length])).toEqual([['day', 30]]);
    expect(stats[0].buckets[29].count).toBe(29);
    const feedback = issueRecords('feedback-issue').records.filter((r) => r.kind === 'issue_stats');
    expect(feedback).toEqual([]);
  });
});

describe('API issues parse and map', () => {
  it('issue.json: counts as numbers, upper-case project slug kept, assignee, status and a created observation', () => {
    const { issue, records } = issueRecords('issue');
    expect(issue).toMatchObject({
      id: '6507376925',
      shortId: 'CLOUDFLARE-MCP-41',
      title: 'Error: Tool list_organizations is already registered',
      culprit: 'Object.fetch(index)',
      errorType: 'Error',
      message: 'Tool list_organizations is already registered',
      count: 25,
      userCount: 1,
      projectId: '4509062593708032',
      projectSlug: 'CLOUDFLARE-MCP',
      firstSeen: '2025-04-03T22:51:19.403Z',
      lastSeen: '2025-04-12T11:34:11.000Z',
      status: { value: { status: 'unresolved', substatus: 'ongoing' }, at },
      assignee: { value: { type: 'user', id: '12345', name: 'Jane Developer', email: 'jane@example.com' }, at },
      priority: 'medium',
      category: 'error',
    });
    expect(records.find((r): r is ObservationRecord => r.kind === 'observation')).toMatchObject({
      id: 'issue.created:6507376925',
      occurredAt: '2025-04-03T22:51:19.403Z',
    });
  });

  it('regressed, performance, CSP and feedback issues keep their category and substatus', () => {
    expect(issueRecords('regressed-issue').issue).toMatchObject({
      id: '6898891101',
      category: 'metric',
      status: { value: { status: 'unresolved', substatus: 'regressed' } },
      count: 3,
      userCount: 0,
    });
    expect(issueRecords('performance-issue').issue).toMatchObject({
      id: '7890123456',
      shortId: 'PERF-N1-001',
      title: 'N+1 Query: SELECT * FROM users WHERE id = %s',
      category: 'performance',
    });
    expect(issueRecords('csp-issue').issue).toMatchObject({
      id: '4256774711',
      shortId: 'BLOG-CSP-4XC',
      title: "Blocked 'image' from 'blob:'",
    });
    expect(issueRecords('feedback-issue').issue).toMatchObject({
      id: '6507376999',
      category: 'feedback',
      status: { value: { substatus: 'new' } },
    });
  });

  it('null culprit, missing substatus and missing priority are tolerated', () => {
    const nullCulprit = issueRecords('issue-null-culprit').issue;
    expect(nullCulprit.culprit).toBeNull();
    expect(nullCulprit.status?.value.substatus).toBeNull();
    expect(nullCulprit.priority).toBeNull();
    expect(issueRecords('unsupported-issue').issue.status?.value.substatus).toBeNull();
  });
});

describe('API events parse and map', () => {
  it('event.json: entries[] exception with camelCase frames; tags as objects', () => {
    const e = event('event');
    expect(e).toMatchObject({
      id: '7ca573c0f4814912aaa9bdc77d1a7d51',
      issueId: '6507376925',
      projectId: '4509062593708032',
      errorType: 'Error',
      errorValue: 'Tool list_organizations is already registered',
    });
    expect(e.topFrames[0]).toMatchObject({
      function: 'Object.fetch',
      filename: 'index.js',
      lineNo: 19631,
      inApp: true,
    });
    expect(e.topFrames.length).toBeLessThanOrEqual(5);
    expect(Object.keys(e.tags).length).toBeGreaterThan(0);
  });

  it('transaction, CSP, generic, default and an unknown future type all map without frames they do not have', () => {
    expect(event('performance-event')).toMatchObject({
      issueId: '7890123456',
      environment: 'production',
      topFrames: [],
    });
    expect(event('csp-event')).toMatchObject({ issueId: '4256774711', title: "Blocked 'image' from 'blob:'" });
    expect(event('generic-event')).toMatchObject({ issueId: '6898891101', level: 'info' });
    expect(event('default-event')).toMatchObject({ id: 'abc123def456', environment: 'production', level: 'error' });
    expect(event('unknown-event')).toMatchObject({
      id: 'ffffffffffffffffffffffffffffffff',
      occurredAt: '2025-01-01T01:00:00.000Z',
    });
  });
});

describe('releases, deploys, commits, projects, teams, activity', () => {
  it('release.json: numeric ids become strings, project slugs kept', () => {
    expect(mapApiRelease(releaseSchema.parse(apiFixture('release')) as Json)).toMatchObject({
      version: '8ce89484-0fec-4913-a2cd-e8e2d41dee36',
      projects: ['cloudflare-mcp'],
      createdAt: '2025-04-13T19:54:21.764Z',
      firstEvent: '2025-04-13T19:54:21.000Z',
    });
  });

  it('deploys and commits of a release', () => {
    const [deploy, observation] = mapApiDeploy(
      deploySchema.parse(apiFixture<Json[]>('release-deploys')[0]) as Json,
      '8ce89484',
      ['cloudflare-mcp'],
    );
    expect(deploy).toMatchObject({
      kind: 'deploy',
      id: '98765',
      environment: 'production',
      finishedAt: '2025-04-13T20:05:30.000Z',
    });
    expect(observation).toMatchObject({ type: 'deploy.finished', release: '8ce89484', environment: 'production' });
    const commit = mapApiCommit(commitSchema.parse(apiFixture<Json[]>('release-commits')[0]) as Json, '8ce89484', []);
    expect(commit).toMatchObject({
      id: '2ce6a2700fec4913a2cde8e2d41dee36',
      message: 'Fix duplicate tool registration',
      authorEmail: 'jane@example.com',
      repository: 'getsentry/sentry-mcp',
      files: null,
    });
  });

  it('project, team and organization', () => {
    expect(mapApiProject(projectSchema.parse(apiFixture('project')) as Json)).toMatchObject({
      kind: 'project',
      id: '4509109104082945',
      slug: 'cloudflare-mcp',
    });
    expect(mapApiTeam(teamSchema.parse(apiFixture('team')) as Json)).toMatchObject({
      kind: 'team',
      id: '4509106740854784',
      slug: 'the-goats',
    });
    expect(organizationSchema.parse(apiFixture('organization')).links?.regionUrl).toBe('https://us.sentry.io');
  });

  it('comments and activity: a note becomes the comment; auto_set_ongoing is not a lifecycle fact', () => {
    const [note] = apiFixture<Json[]>('issue-comments').map((a) => activitySchema.parse(a) as Json);
    const [comment, observation] = mapActivity(note, '6507376925', 'CLOUDFLARE-MCP-41', null);
    expect(comment as CommentRecord).toMatchObject({
      id: '4633816000',
      issueId: '6507376925',
      author: { id: '12345', name: 'Jane Developer' },
      body: { value: { text: 'Investigating after the latest deploy.', deleted: false } },
    });
    expect(observation).toMatchObject({ id: 'comment.created:4633816000', type: 'comment.created' });
    const activity = activityListSchema.parse(apiFixture('issue-activity')).activity as Json[];
    expect(activity.flatMap((a) => mapActivity(a, '6507376925', 'CLOUDFLARE-MCP-41', null)).map((r) => r.kind)).toEqual(
      ['comment', 'observation'],
    );
  });
});
