import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';
import { scalar } from '../helpers/database.js';
import { EPOCH } from '../helpers/emulator-memory.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let service: AgentService;
beforeAll(async () => {
  service = await startAgentService();
});
afterAll(async () => {
  await service.close();
});

async function get(path: string, key: string = service.keys.default): Promise<Json> {
  const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as Json;
}

async function status(path: string, key: string = service.keys.default) {
  const res = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Json };
}

/** The emulator's own events (its ground truth) of each project per bucket of `size` over [from, to). */
function emulatorCounts(data: AgentService['data'], from: number, to: number, size: number) {
  const slug = new Map(data.projects.map((p) => [p.id, p.slug]));
  const counts = new Map<string, number[]>();
  for (const p of data.projects)
    counts.set(
      p.slug,
      Array.from({ length: (to - from) / size }, () => 0),
    );
  for (const issue of data.issues)
    for (const event of issue.events) {
      const at = Date.parse(event.dateCreated);
      if (at >= from && at < to && at <= EPOCH)
        counts.get(slug.get(issue.projectId)!)![Math.floor((at - from) / size)]++;
    }
  return counts;
}

describe('GET /api/v1/charts/events', () => {
  it('counts per project per day and per hour are the events Sentry counted (the emulator’s own)', async () => {
    // The daily counts cover 30 days up to EPOCH, the hourly ones its last 24 hours.
    for (const [interval, from, size] of [
      ['day', EPOCH - 29 * DAY, DAY],
      ['hour', EPOCH - 23 * HOUR, HOUR],
    ] as const) {
      const since = new Date(from).toISOString();
      const until = new Date(EPOCH).toISOString();
      const chart = await get(`/api/v1/charts/events?interval=${interval}&since=${since}&until=${until}`);
      expect(chart.since).toBe(since);
      expect(chart.buckets).toHaveLength((EPOCH - from) / size);
      expect(chart.buckets[0]).toBe(since);
      const expected = emulatorCounts(service.data, from, EPOCH, size);
      for (const [project, counts] of expected) {
        const series = chart.series.find((s: Json) => s.project === project);
        expect(series, project).toBeDefined();
        expect(series.counts, `${interval} ${project}`).toEqual(counts);
        expect(series.total).toBe(counts.reduce((a, b) => a + b, 0));
      }
      expect(chart.series.some((s: Json) => s.total > 0)).toBe(true);
    }
  });

  it('counts the events delivered by webhook, as the memory stores them', async () => {
    // error.created: an event of FRONT-END-9 (project front-end) at 2019-08-19 20:58Z.
    const stored = await scalar<number>(
      service.runtime.store.db,
      "SELECT count(*) AS n FROM events WHERE workspace_id = ? AND occurred_at >= '2019-08-19T20:00:00.000Z' AND occurred_at < '2019-08-19T21:00:00.000Z'",
      DEFAULT_WORKSPACE,
    );
    expect(Number(stored)).toBeGreaterThan(0);
    const chart = await get(
      '/api/v1/charts/events?project=front-end&since=2019-08-19T00:00:00Z&until=2019-08-20T00:00:00Z',
    );
    expect(chart.series).toHaveLength(1);
    expect(chart.series[0].counts[20]).toBe(Number(stored));
    expect(chart.series[0].total).toBe(Number(stored));
    const trend = await get('/api/v1/issues/FRONT-END-9/trend?since=2019-08-19T00:00:00Z&until=2019-08-20T00:00:00Z');
    expect(trend.counts[20]).toBe(Number(stored));
  });

  it('marks the deploys and the issues that appeared, regressed or were resolved, as the timeline counts them', async () => {
    const since = new Date(EPOCH - 30 * DAY).toISOString();
    const until = new Date(EPOCH + DAY).toISOString();
    const chart = await get(`/api/v1/charts/events?interval=day&since=${since}&until=${until}`);
    const deploys = service.data.releases.flatMap((r) =>
      r.deploys.filter((d) => d.dateFinished >= since && d.dateFinished < until).map((d) => ({ r, d })),
    );
    expect(chart.deploys.length + chart.deploysOmitted).toBe(deploys.length);
    expect(deploys.length).toBeGreaterThan(0);
    const some = deploys[0];
    expect(chart.deploys).toContainEqual(
      expect.objectContaining({ release: some.r.version, environment: some.d.environment }),
    );
    const timeline = await get(`/api/v1/timeline?since=${since}&until=${until}&kinds=new,regressed,resolved&limit=1`);
    const total = ['new', 'regressed', 'resolved'].reduce((n, k) => n + (timeline.counts[k] ?? 0), 0);
    expect(chart.annotations.length + chart.annotationsOmitted).toBe(total);
    expect(chart.annotations.length).toBe(Math.min(total, 200));
    const issue = service.data.issues.find((i) => chart.annotations.some((a: Json) => a.issueId === i.id))!;
    expect(chart.annotations.find((a: Json) => a.issueId === issue.id)).toMatchObject({
      shortId: issue.shortId,
      title: issue.title,
    });
    // Oldest first, like the buckets.
    const times = chart.annotations.map((a: Json) => a.at);
    expect([...times].sort()).toEqual(times);
  });

  it('one project: only its series, its deploys and its issues', async () => {
    const project = service.data.projects[1];
    const chart = await get(`/api/v1/charts/events?project=${project.slug}&interval=day&since=30d`);
    expect(chart.series.map((s: Json) => s.project)).toEqual([project.slug]);
    for (const a of chart.annotations) expect(a.project).toBe(project.slug);
    for (const d of chart.deploys)
      expect(d.projects.some((p: string) => p === project.slug || p === project.id)).toBe(true);
    const two = await get(`/api/v1/charts/events?project=${project.slug}&project=${service.data.projects[0].slug}`);
    expect(two.series).toHaveLength(2);
    // Default: the last 7 days by the hour.
    expect(two.interval).toBe('hour');
    expect(two.buckets).toHaveLength(7 * 24);
  });

  it('400 with what to change for a bad interval, time, window or parameter', async () => {
    for (const [query, message] of [
      ['interval=minute', /interval must be one of hour, day/],
      ['since=yesterday', /since must be an ISO date\/time/],
      ['since=40d', /at most 31 days: use interval=day/],
      ['since=2026-11-10T00:00:00Z&until=2026-11-01T00:00:00Z', /must be before until/],
      ['colour=red', /unknown parameter "colour"/],
      ['interval=day&interval=hour', /give "interval" once/],
    ] as const) {
      const res = await status(`/api/v1/charts/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error).toMatch(message);
    }
  });
});

describe('GET /api/v1/issues/:issue/trend', () => {
  it('hourly and daily counts as Sentry counted them, with the deploys the issue context judges', async () => {
    const issue = [...service.data.issues].sort((a, b) => b.events.length - a.events.length)[0];
    const slug = service.data.projects.find((p) => p.id === issue.projectId)!.slug;
    const until = new Date(EPOCH).toISOString();
    const hourly = await get(
      `/api/v1/issues/${issue.shortId}/trend?since=${new Date(EPOCH - 23 * HOUR).toISOString()}&until=${until}`,
    );
    const events = (from: number, size: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        issue.events.filter((e) => {
          const at = Date.parse(e.dateCreated);
          return at >= from + i * size && at < from + (i + 1) * size && at <= EPOCH;
        }),
      ).map((e) => e.length);
    expect(hourly).toMatchObject({ issueId: issue.id, shortId: issue.shortId, project: slug, interval: 'hour' });
    expect(hourly.counts).toEqual(events(EPOCH - 23 * HOUR, HOUR, 23));
    const daily = await get(`/api/v1/issues/${issue.id}/trend?interval=day&until=${until}`);
    expect(daily.buckets).toHaveLength(30);
    expect(daily.counts.slice(1)).toEqual(events(EPOCH - 29 * DAY, DAY, 29));
    const context = await get(`/api/v1/issues/${issue.id}`);
    expect(daily.deploys).toEqual(context.deploys);
    expect(hourly.deploys).toEqual(context.deploys);
  });

  it('404 for an unknown issue, 400 for a bad window', async () => {
    const missing = await status('/api/v1/issues/NOPE-1/trend');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/no issue "NOPE-1"/);
    const issue = service.data.issues[0];
    expect((await status(`/api/v1/issues/${issue.id}/trend?interval=week`)).status).toBe(400);
    expect((await status(`/api/v1/issues/${issue.id}/trend?interval=day&since=400d`)).status).toBe(400);
  });
});

describe('GET /api/v1/inbox', () => {
  it('pages through the deliveries newest first, by state, without bodies', async () => {
    const all = await get('/api/v1/inbox?limit=200');
    expect(all.items.length).toBeGreaterThan(5);
    expect(all.items[0]).toEqual({
      seq: expect.any(Number),
      resource: expect.any(String),
      action: expect.anything(),
      state: expect.any(String),
      attempts: expect.any(Number),
      lastError: null,
      receivedAt: expect.any(String),
      processedAt: expect.any(String),
    });
    const seqs = all.items.map((i: Json) => i.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    const first = await get('/api/v1/inbox?limit=2');
    expect(first.items.map((i: Json) => i.seq)).toEqual(seqs.slice(0, 2));
    const second = await get(`/api/v1/inbox?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((i: Json) => i.seq)).toEqual(seqs.slice(2, 4));
    const processed = await get('/api/v1/inbox?state=processed&limit=200');
    expect(processed.items.length).toBe(all.items.filter((i: Json) => i.state === 'processed').length);
    expect((await get('/api/v1/inbox?state=dead')).items).toEqual([]);
    for (const query of ['state=gone', 'limit=0', 'limit=201', 'cursor=abc'])
      expect((await status(`/api/v1/inbox?${query}`)).status, query).toBe(400);
  });
});

describe('another workspace', () => {
  it('sees only its own deliveries, charts, issues and overview', async () => {
    const other = service.keys.other;
    expect((await get('/api/v1/inbox', other)).items).toEqual([]);
    const seq = (await get('/api/v1/inbox?limit=1')).items[0].seq;
    const retry = await fetch(`${service.url}/api/v1/inbox/${seq}/retry`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}` },
    });
    expect(retry.status).toBe(404);
    const chart = await get('/api/v1/charts/events?interval=day&since=30d', other);
    expect(chart.series.map((s: Json) => s.project).sort()).toEqual(
      service.otherData.projects.map((p) => p.slug).sort(),
    );
    const ids = new Set(service.otherData.issues.map((i) => i.id));
    for (const a of chart.annotations) expect(ids.has(a.issueId)).toBe(true);
    const versions = new Set(service.otherData.releases.map((r) => r.version));
    for (const d of chart.deploys) expect(versions.has(d.release)).toBe(true);
    const defaultOnly = service.data.issues.find(
      (i) => !service.otherData.issues.some((o) => o.shortId === i.shortId),
    )!;
    expect((await status(`/api/v1/issues/${defaultOnly.shortId}/trend`, other)).status).toBe(404);
    const overview = await get('/api/v1/overview', other);
    expect(overview.inbox.counts.processed).toBe(0);
    expect(overview.deliveriesPerMinute.buckets).toEqual([]);
    expect((await get('/api/v1/overview')).inbox.counts.processed).toBeGreaterThan(0);
    expect(DEFAULT_WORKSPACE).not.toBe('other');
  });
});
