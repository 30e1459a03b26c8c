import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { getIssueContext } from '../../src/memory/context/issue-context.js';
import { getReleaseContext } from '../../src/memory/context/release-context.js';
import type { MemoryStore } from '../../src/memory/store.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import type { TrendScenario } from '../../src/sentry/emulator/trends.js';
import { eventSeries } from '../../src/memory/event-counts.js';
import type { IssueStatsRecord } from '../../src/memory/records.js';
import { eventSchema } from '../../src/sentry/api/schemas.js';
import { mapEvent } from '../../src/sentry/mapping/event.js';
import { openTestStore } from '../helpers/database.js';
import { apiFixture } from '../helpers/fixtures.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { syncFor } from '../helpers/sync.js';

const ws = DEFAULT_WORKSPACE;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let clock = 0;
let emu: Emulator;
let store: MemoryStore;
let close: () => Promise<void>;
let turnAt: number;
/** The end of the first phase: a day (and a few hours) after the deploy. */
let dayAfter: number;
/** Hourly counts per scenario issue, as Sentry's issue details reported them over the syncs (bucket start → count). */
const hourly = new Map<string, Map<number, number>>();
/** The contexts at the end of the first phase (a day after the deploy). */
const afterDeploy = new Map<TrendScenario, Awaited<ReturnType<typeof getIssueContext>>>();

function scenario(name: TrendScenario) {
  const found = emu.data.trendScenarios.find((s) => s.scenario === name);
  expect(found, name).toBeDefined();
  return found!;
}

async function api(path: string, query = ''): Promise<Json> {
  const response = await fetch(`${emu.url}/api/0/organizations/${emu.orgSlug}/issues/${path}${query}`, {
    headers: { authorization: `Bearer ${emu.internalToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** What Sentry's details say per hour of each scenario issue now, merged with what it said before. */
async function recordHourlyStats(): Promise<void> {
  for (const s of emu.data.trendScenarios) {
    const issue = await api(`${s.issueId}/`);
    const seen = hourly.get(s.issueId) ?? hourly.set(s.issueId, new Map()).get(s.issueId)!;
    for (const [at, n] of issue.stats['24h'] as [number, number][]) seen.set(at * 1000, n);
  }
}

/** Events per hour in [from, to) from the recorded hourly stats, partial hours in proportion. */
function statsRate(issueId: string, from: number, to: number): number {
  let total = 0;
  for (const [start, n] of hourly.get(issueId)!)
    total += (n * Math.max(0, Math.min(to, start + HOUR) - Math.max(from, start))) / HOUR;
  return total / ((to - from) / HOUR);
}

beforeAll(async () => {
  emu = await startEmulator({
    seed: 5,
    projects: 3,
    issues: 200,
    epoch: EPOCH,
    now: () => clock,
    rateLimit: { perSecond: 100_000 },
  });
  const worse = scenario('worse after deploy');
  turnAt = Date.parse(worse.deploy!.finishedAt);
  ({ store, close } = await openTestStore());
  // A memory that syncs every six hours from a day before the deploy to a day after it: the first
  // run backfills (daily stats), the incremental runs read hourly stats.
  clock = Math.floor((turnAt - 26 * HOUR) / HOUR) * HOUR;
  await syncFor(emu, store).run();
  for (; clock < turnAt + 30 * HOUR; clock += 6 * HOUR) {
    await recordHourlyStats();
    await syncFor(emu, store, { streams: ['issues'] }).run();
  }
  clock -= 6 * HOUR;
  dayAfter = clock;
  for (const s of emu.data.trendScenarios)
    afterDeploy.set(s.scenario, await getIssueContext(store.db, ws, s.issueId, clock));
  // Then on to the end of the seeded history: a run (a window of days: daily counts), and an hour
  // later a reconcile of the last day (hourly counts).
  clock = EPOCH;
  await syncFor(emu, store).run();
  clock = EPOCH + HOUR;
  await syncFor(emu, store).reconcile(DAY);
}, 120_000);
afterAll(async () => {
  await emu?.close();
  await close?.();
});

describe('event counts: Sentry’s at a snapshot plus the events stored after it, never twice', () => {
  it('a snapshot replaces what it covers and re-adds later events; an event it already counts adds nothing', async () => {
    const { store: memory, close: closeMemory } = await openTestStore();
    try {
      const base = eventSchema.parse(apiFixture('event')) as Record<string, unknown>;
      const issueId = String(base.groupID);
      const t0 = Date.parse('2026-03-02T00:00:00.000Z');
      const event = (n: number, at: number) =>
        mapEvent(
          { ...base, eventID: `${'e'.repeat(31)}${n}`, datetime: new Date(at).toISOString() },
          new Date(at).toISOString(),
        );
      const snapshot = (takenAt: number, counts: number[]): IssueStatsRecord => ({
        kind: 'issue_stats',
        issueId,
        observedAt: new Date(takenAt).toISOString(),
        resolution: 'hour',
        coveredFrom: new Date(takenAt - 23 * HOUR - (takenAt % HOUR)).toISOString(),
        buckets: counts.map((count, i) => ({
          start: new Date(takenAt - (takenAt % HOUR) - (counts.length - 1 - i) * HOUR).toISOString(),
          count,
        })),
      });
      const hourOf = async (at: number) => {
        const series = await eventSeries(memory.db, ws, [issueId], at - DAY);
        return Math.round(series.get(issueId)!.count(at - (at % HOUR), at - (at % HOUR) + HOUR));
      };
      // Sentry counted 5 in the hour before 10:30 (10:00–10:30), read at 10:30.
      const taken = t0 + 10.5 * HOUR;
      await memory.apply(ws, 'sentry', [snapshot(taken, [5])]);
      // Deliveries: one it already counts (10:10), two after it (10:40, 10:50), one re-delivered.
      await memory.apply(ws, 'sentry', [event(1, t0 + 10 * HOUR + 10 * 60_000)]);
      await memory.apply(ws, 'sentry', [
        event(2, t0 + 10 * HOUR + 40 * 60_000),
        event(3, t0 + 10 * HOUR + 50 * 60_000),
      ]);
      await memory.apply(ws, 'sentry', [event(3, t0 + 10 * HOUR + 50 * 60_000)]);
      expect(await hourOf(t0 + 10 * HOUR)).toBe(5 + 2);
      // A later read of the same hour (Sentry now has 8: the 5, the two above and one more) replaces it all.
      await memory.apply(ws, 'sentry', [snapshot(t0 + 11 * HOUR + 5 * 60_000, [8, 0])]);
      expect(await hourOf(t0 + 10 * HOUR)).toBe(8);
      // An older snapshot arriving late changes nothing.
      await memory.apply(ws, 'sentry', [snapshot(taken, [5])]);
      expect(await hourOf(t0 + 10 * HOUR)).toBe(8);
    } finally {
      await closeMemory();
    }
  });
});

describe('before and after a deploy', () => {
  it.each([
    ['worse after deploy', 'worse'],
    ['better after deploy', 'better'],
    ['gone after deploy', 'gone'],
  ] as const)('%s: the verdict, with the rates Sentry’s hourly stats give', (name, verdict) => {
    const s = scenario(name);
    const context = afterDeploy.get(name)!;
    const deploy = context.deploys.find((d) => d.release === s.deploy!.release && d.environment === 'production');
    expect(deploy, JSON.stringify(context.deploys)).toBeDefined();
    expect(deploy!.verdict).toBe(verdict);
    expect(deploy!.perHourBefore).toBeCloseTo(statsRate(s.issueId, turnAt - DAY, turnAt), 1);
    const until = Math.min(turnAt + DAY, dayAfter);
    expect(deploy!.perHourAfter).toBeCloseTo(statsRate(s.issueId, turnAt, until), 1);
  });

  it('the release context names, per deploy, the issues that got worse, better and went quiet', async () => {
    const release = await getReleaseContext(store.db, ws, scenario('worse after deploy').deploy!.release, dayAfter);
    const production = release.deploys.find((d) => d.environment === 'production')!;
    if (!production.effects) throw new Error('no effects');
    expect(production.effects).toBeDefined();
    const ids = (list: { id: string }[]) => list.map((i) => i.id);
    expect(ids(production.effects.worse)).toContain(scenario('worse after deploy').issueId);
    expect(ids(production.effects.better)).toContain(scenario('better after deploy').issueId);
    expect(ids(production.effects.gone)).toContain(scenario('gone after deploy').issueId);
    expect(ids(production.effects.worse)).not.toContain(scenario('better after deploy').issueId);
    for (const issue of production.effects.appeared)
      expect(Date.parse((await api(`${issue.id}/`)).firstSeen)).toBeGreaterThanOrEqual(turnAt);
  });
});

describe('the event-rate trend', () => {
  it('a rising issue: the last 24 h vs the day before as Sentry counted them, and since when', async () => {
    const s = scenario('rising');
    const { trend } = await getIssueContext(store.db, ws, s.issueId, clock);
    const events = emu.data.issues.find((i) => i.id === s.issueId)!.events.map((e) => Date.parse(e.dateCreated));
    const between = (from: number, to: number) => events.filter((t) => t >= from && t < to).length;
    expect(trend.direction).toBe('rising');
    // The oldest hour of the rolling day comes from the day's count spread evenly: within a few events.
    expect(Math.abs(trend.last24h! - between(clock - DAY, clock))).toBeLessThanOrEqual(3);
    expect(Math.abs(trend.previous24h! - between(clock - 2 * DAY, clock - DAY))).toBeLessThanOrEqual(3);
    expect(trend.summary).toMatch(
      /^×\d+(\.\d)? vs the previous day \(\d+ vs \d+ events\), rising since \d{4}-\d\d-\d\d \d\d:00Z$/,
    );
    const since = Date.parse(trend.summary.replace(/.* since (.*)Z$/, '$1:00Z').replace(' ', 'T'));
    expect(since).toBeGreaterThanOrEqual(EPOCH - 9 * HOUR);
    expect(since).toBeLessThanOrEqual(EPOCH - 7 * HOUR);
  });

  it('a quiet issue: no events for a day, since its last event; its days equal Sentry’s daily stats', async () => {
    const s = scenario('quiet');
    const { trend } = await getIssueContext(store.db, ws, s.issueId, clock);
    const issue = await api(`${s.issueId}/`);
    expect(trend).toMatchObject({ direction: 'quiet', last24h: 0, quietSince: issue.lastSeen });
    const daily = (await api('', `?query=&groupStatsPeriod=14d&limit=100&sort=date`)) as unknown as Json[];
    const listed = daily.find((i) => i.id === s.issueId);
    const days = listed
      ? (listed.stats['14d'] as [number, number][]).map(([, n]) => n)
      : (issue.stats['30d'] as [number, number][]).slice(-14).map(([, n]) => n);
    expect(trend.series).toEqual(days);
    expect(trend.previous7d).toBeGreaterThan(0);
  });

  it('as of a time, the trend is the one at that time', async () => {
    const s = scenario('worse after deploy');
    const then = await getIssueContext(store.db, ws, s.issueId, clock, {
      asOf: new Date(turnAt + 20 * HOUR).toISOString(),
    });
    expect(then.trend.direction).toBe('rising');
    expect(then.deploys.find((d) => d.release === s.deploy!.release)?.verdict).toBe('worse');
  });
});
