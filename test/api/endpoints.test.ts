import { afterEach, describe, expect, it } from 'vitest';
import {
  SentryApiClient,
  activityListSchema,
  commitSchema,
  deploySchema,
  eventSchema,
  getIssueActivities,
  getIssueEvent,
  getOrganization,
  issueSchema,
  organizationSchema,
  paginateIssues,
  paginateReleaseCommitFiles,
  projectSchema,
  releaseSchema,
  resolveRegionUrl,
  teamSchema,
  userSchema,
  activitySchema,
} from '../../src/sentry/api/index.js';
import { StaticTokenProvider } from '../../src/sentry/auth/index.js';
import { fixtureFile } from '../helpers/fixtures.js';
import { sendJson, startServer, type TestServer } from './http-server.js';

const fixture = (name: string): unknown => fixtureFile(`api/${name}`);

describe('schemas accept every relevant fixture', () => {
  const cases: Array<[string, { safeParse(v: unknown): { success: boolean } }]> = [
    ['organization.json', organizationSchema],
    ['project.json', projectSchema],
    ['team.json', teamSchema],
    ['user.json', userSchema],
    ['release.json', releaseSchema],
    ...[
      'issue.json',
      'regressed-issue.json',
      'performance-issue.json',
      'csp-issue.json',
      'feedback-issue.json',
      'issue-null-culprit.json',
      'unsupported-issue.json',
    ].map((f): [string, typeof issueSchema] => [f, issueSchema]),
    ...[
      'event.json',
      'performance-event.json',
      'csp-event.json',
      'generic-event.json',
      'default-event.json',
      'unknown-event.json',
    ].map((f): [string, typeof eventSchema] => [f, eventSchema]),
    ['issue-activity.json', activityListSchema],
  ];
  it.each(cases)('%s', (file, schema) => {
    expect(schema.safeParse(fixture(file)).success).toBe(true);
  });

  it.each([
    ['release-deploys.json', deploySchema],
    ['release-commits.json', commitSchema],
    ['issue-comments.json', activitySchema],
  ] as const)('%s (list)', (file, schema) => {
    const items = fixture(file) as unknown[];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(schema.safeParse(item).success).toBe(true);
  });

  it('normalizes ids and counts and tolerates missing fields', () => {
    const release = releaseSchema.parse(fixture('release.json'));
    expect(release.id).toBe('1402755016');
    expect(release.projects?.[0]?.id).toBe('4509062593708032');
    const issue = issueSchema.parse(fixture('issue.json'));
    expect(issue.count).toBe(25);
    expect(issue.userCount).toBe(1);
    expect(issue.project?.slug).toBe('CLOUDFLARE-MCP');
    const nullCulprit = issueSchema.parse(fixture('issue-null-culprit.json'));
    expect(nullCulprit.culprit).toBeNull();
    expect(nullCulprit.priority ?? null).toBeNull();
    expect(issueSchema.parse(fixture('unsupported-issue.json')).substatus ?? null).toBeNull();
    // Unknown fields pass through untouched.
    expect((issue as Record<string, unknown>).shareId).toBeNull();
  });

  it('rejects an item without an id', () => {
    expect(issueSchema.safeParse({ title: 'no id' }).success).toBe(false);
  });
});

describe('endpoint wrappers', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function clientServing(routes: Record<string, unknown>) {
    server = await startServer((req, res) => {
      const path = new URL(req.url, 'http://x').pathname;
      if (path in routes) sendJson(res, 200, routes[path]);
      else sendJson(res, 404, { detail: 'not found' });
    });
    return new SentryApiClient({ baseUrl: server.url, tokens: new StaticTokenProvider('t'), maxRetries: 0 });
  }

  it('always sends the issue query, even when empty, plus filters', async () => {
    const client = await clientServing({ '/api/0/organizations/acme/issues/': [fixture('issue.json')] });
    const pages = [];
    for await (const page of paginateIssues(client, 'acme', {
      query: '',
      statsPeriod: '14d',
      sort: 'date',
      project: [1, '2'],
      limit: 100,
    })) {
      pages.push(page);
    }
    expect(pages[0]?.items[0]?.id).toBe('6507376925');
    const url = new URL(server!.requests[0]!.url, 'http://x');
    expect(url.searchParams.has('query')).toBe(true);
    expect(url.searchParams.get('query')).toBe('');
    expect(url.searchParams.getAll('project')).toEqual(['1', '2']);
    expect(url.searchParams.get('statsPeriod')).toBe('14d');
    expect(url.searchParams.get('sort')).toBe('date');
    expect(url.searchParams.get('limit')).toBe('100');
  });

  it('escapes release versions and reads activities and events', async () => {
    const client = await clientServing({
      '/api/0/organizations/acme/releases/app%401.0%2Bbuild%2F7/commitfiles/': [{ id: 9, filename: 'a.ts', type: 'M' }],
      '/api/0/organizations/acme/issues/42/activities/': fixture('issue-activity.json'),
      '/api/0/organizations/acme/issues/42/events/recommended/': fixture('event.json'),
    });
    const files = [];
    for await (const page of paginateReleaseCommitFiles(client, 'acme', 'app@1.0+build/7')) files.push(...page.items);
    expect(files[0]).toMatchObject({ id: '9', filename: 'a.ts' });
    const activities = await getIssueActivities(client, 'acme', '42');
    expect(activities.map((a) => a.type)).toEqual(['auto_set_ongoing', 'note']);
    const event = await getIssueEvent(client, 'acme', '42', 'recommended');
    expect(event.groupID).toBe('6507376925');
  });

  it('reports a malformed item as invalid_response', async () => {
    const client = await clientServing({ '/api/0/organizations/acme/': { slug: 'acme' } });
    await expect(getOrganization(client, 'acme')).rejects.toMatchObject({ kind: 'invalid_response' });
  });
});

describe('resolveRegionUrl', () => {
  function saasClient(body: unknown) {
    const requested: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      requested.push(String(input));
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const client = new SentryApiClient({
      baseUrl: 'https://sentry.io/',
      tokens: new StaticTokenProvider('t'),
      fetch: fakeFetch,
    });
    return { client, requested };
  }

  it("uses the organization's regionUrl on sentry.io", async () => {
    const { client, requested } = saasClient(fixture('organization.json'));
    await expect(resolveRegionUrl(client, 'sentry-mcp-evals')).resolves.toBe('https://us.sentry.io');
    expect(requested).toEqual(['https://sentry.io/api/0/organizations/sentry-mcp-evals/']);
  });

  it('refuses a regionUrl outside sentry.io', async () => {
    const { client } = saasClient({ id: '1', slug: 'acme', links: { regionUrl: 'https://evil.example.com' } });
    await expect(resolveRegionUrl(client, 'acme')).rejects.toMatchObject({ kind: 'invalid_response' });
  });

  it('keeps a self-hosted base URL without asking', async () => {
    const client = new SentryApiClient({
      baseUrl: 'https://sentry.internal.example/',
      tokens: new StaticTokenProvider('t'),
      fetch: () => Promise.reject(new Error('must not be called')),
    });
    await expect(resolveRegionUrl(client, 'acme')).resolves.toBe('https://sentry.internal.example');
  });
});
