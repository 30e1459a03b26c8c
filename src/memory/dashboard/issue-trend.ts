import type { MemoryDatabase } from '../database.js';
import { deployEffects, issueSeries, TREND_LOOKBACK_MS, type DeployEffect } from '../context/event-trend.js';
import { getIssueFacts } from '../context/issue-context.js';
import { DAY_MS, eventSeries, HOUR_MS, type Resolution } from '../event-counts.js';
import { bucketsOf } from './event-chart.js';

export interface IssueTrendChart {
  issueId: string;
  shortId: string | null;
  project: string | null;
  interval: Resolution;
  since: string;
  until: string;
  buckets: string[];
  /** Events per bucket as the issue's trend reads them (a day's count spread over its hours where only it is known). */
  counts: number[];
  /** The issue context's deploys: its rate before and after each recent deploy, newest first. */
  deploys: DeployEffect[];
}

const round = (n: number) => Math.round(n * 100) / 100;

/** One issue's events per hour or day over [since, until), with the deploys its context judges. */
export async function issueTrendChart(
  db: MemoryDatabase,
  workspaceId: string,
  ref: string,
  query: { since: string; until: string; interval: Resolution },
  now: number,
): Promise<IssueTrendChart> {
  const facts = await getIssueFacts(db, workspaceId, ref);
  const starts = bucketsOf(query.interval, query.since, query.until);
  const recent = (await issueSeries(db, workspaceId, facts.id, now)).lifetime(facts.firstSeen, facts.lastSeen);
  // The context's series reaches back TREND_LOOKBACK_MS; a window before that reads its own.
  const series =
    starts.length && starts[0] < now - TREND_LOOKBACK_MS
      ? (await eventSeries(db, workspaceId, [facts.id], starts[0]))
          .get(facts.id)!
          .lifetime(facts.firstSeen, facts.lastSeen)
      : recent;
  const size = query.interval === 'hour' ? HOUR_MS : DAY_MS;
  const counts = starts.map((t) =>
    t >= now ? 0 : round((query.interval === 'day' ? series.day(t) : null) ?? series.count(t, Math.min(now, t + size))),
  );
  const projectKeys = [facts.project, facts.projectId].filter((p): p is string => p !== null);
  return {
    issueId: facts.id,
    shortId: facts.shortId,
    project: facts.project,
    interval: query.interval,
    since: new Date(starts[0] ?? Date.parse(query.since)).toISOString(),
    until: query.until,
    buckets: starts.map((t) => new Date(t).toISOString()),
    counts,
    deploys: await deployEffects(
      db,
      workspaceId,
      { projectKeys, environments: facts.environments, firstSeen: facts.firstSeen },
      recent,
      now,
    ),
  };
}
