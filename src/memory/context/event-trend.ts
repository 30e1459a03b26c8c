import { jsonArrayHasAny, type MemoryDatabase } from '../database.js';
import { DAY_MS, eventSeries, HOUR_MS, type EventSeries } from '../event-counts.js';

/** The daily counts the trend shows, today last. */
const SERIES_DAYS = 14;
/** How far back the counts (and the deploys judged against them) reach. */
export const TREND_LOOKBACK_MS = 30 * DAY_MS;
/** A change smaller than this many events is noise, whatever its ratio. */
export const MIN_CHANGE = 3;
const RISING = 1.5;
const MAX_DEPLOYS = 5;

export interface IssueTrend {
  direction: 'new' | 'rising' | 'falling' | 'steady' | 'quiet';
  /** Events in the last 24 hours and the 24 before; null when no counts are stored for the issue. */
  last24h: number | null;
  previous24h: number | null;
  last7d: number | null;
  previous7d: number | null;
  /** The last event, when there has been none for a day. */
  quietSince: string | null;
  /** Events per UTC day, oldest first, today last (empty without counts). */
  series: number[];
  /** The words an agent can repeat: "×3.2 vs the previous day (48 vs 15 events), rising since 2026-11-19 16:00Z". */
  summary: string;
}

export interface DeployEffect {
  release: string;
  environment: string;
  finishedAt: string;
  /** The issue's events per hour in the 24 h before the deploy (from the previous deploy, if later). */
  perHourBefore: number;
  /** …and after it, until 24 h later, the next deploy or now. */
  perHourAfter: number;
  verdict: 'worse' | 'better' | 'gone' | 'unchanged';
}

/** The counts of one issue over the trend's lookback. */
export async function issueSeries(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  now: number,
): Promise<EventSeries> {
  return (await eventSeries(db, workspaceId, [issueId], now - TREND_LOOKBACK_MS)).get(issueId)!;
}

/** Where the issue is heading at `now`, from its hourly and daily counts. */
export function trendOf(
  series: EventSeries,
  issue: { firstSeen: string | null; lastSeen: string | null },
  now: number,
): IssueTrend {
  const first = issue.firstSeen ? Date.parse(issue.firstSeen) : null;
  const last = issue.lastSeen ? Date.parse(issue.lastSeen) : null;
  const quietFor = last !== null ? now - last : null;
  if (!series.known) {
    const direction =
      first !== null && now - first < DAY_MS ? 'new' : quietFor !== null && quietFor >= DAY_MS ? 'quiet' : 'steady';
    return {
      direction,
      last24h: null,
      previous24h: null,
      last7d: null,
      previous7d: null,
      quietSince: direction === 'quiet' ? issue.lastSeen : null,
      series: [],
      summary: direction === 'quiet' ? `no events since ${hourOf(last!)}` : 'no event counts in memory yet',
    };
  }
  const n = (from: number, to: number) => Math.round(series.count(from, to));
  const last24h = n(now - DAY_MS, now);
  const previous24h = n(now - 2 * DAY_MS, now - DAY_MS);
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const counts = {
    last24h,
    previous24h,
    last7d: n(now - 7 * DAY_MS, now),
    previous7d: n(now - 14 * DAY_MS, now - 7 * DAY_MS),
    series: Array.from({ length: SERIES_DAYS }, (_, i) => {
      const day = today - (SERIES_DAYS - 1 - i) * DAY_MS;
      return Math.round(series.day(day) ?? series.count(day, Math.min(now, day + DAY_MS)));
    }),
  };
  const ratio = previous24h > 0 ? `×${Math.round((last24h / previous24h) * 10) / 10} vs the previous day` : null;
  const trend = (direction: IssueTrend['direction'], summary: string, quietSince: string | null = null) => ({
    direction,
    ...counts,
    quietSince,
    summary,
  });
  if (first !== null && now - first < DAY_MS)
    return trend('new', `first seen ${hoursAgo(now - first)}, ${last24h} events since`);
  if (last24h === 0 && (quietFor === null || quietFor >= DAY_MS))
    return trend(
      'quiet',
      last !== null ? `no events since ${hourOf(last)}` : 'no events in the last 24 h',
      issue.lastSeen ?? null,
    );
  if (last24h >= previous24h * RISING && last24h - previous24h >= MIN_CHANGE) {
    const since = risingSince(series, now, previous24h / 24);
    const rise = ratio
      ? `${ratio} (${last24h} vs ${previous24h} events)`
      : `${last24h} events in the last 24 h, none the day before`;
    return trend('rising', since !== null ? `${rise}, rising since ${hourOf(since)}` : rise);
  }
  if (previous24h >= last24h * RISING && previous24h - last24h >= MIN_CHANGE)
    return trend('falling', `${ratio} (${last24h} vs ${previous24h} events)`);
  return trend('steady', `about ${last24h} events a day (${previous24h} the day before)`);
}

/**
 * Where the rise began: the hour of the last day from which the events most exceed the previous
 * day's rate (within two events of the most, the latest such hour, so noise before it does not count).
 */
function risingSince(series: EventSeries, now: number, previousPerHour: number): number | null {
  const start = Math.floor((now - DAY_MS) / HOUR_MS) * HOUR_MS + HOUR_MS;
  const excess: [number, number][] = [];
  for (let h = start; h < now; h += HOUR_MS)
    excess.push([h, series.count(h, now) - (previousPerHour * (now - h)) / HOUR_MS]);
  const most = Math.max(...excess.map(([, e]) => e));
  if (!(most > 0)) return null;
  return excess.filter(([, e]) => e >= most - 2).at(-1)![0];
}

/**
 * The issue's rate before and after each recent deploy of its project (in an environment it was
 * seen in, when known), newest first: deploys from a day before it appeared until an hour ago.
 */
export async function deployEffects(
  db: MemoryDatabase,
  workspaceId: string,
  issue: { projectKeys: string[]; environments: string[]; firstSeen: string | null },
  series: EventSeries,
  now: number,
): Promise<DeployEffect[]> {
  if (!issue.projectKeys.length || !series.known) return [];
  const since = Math.max(
    now - TREND_LOOKBACK_MS,
    issue.firstSeen ? Date.parse(issue.firstSeen) - DAY_MS : Number.NEGATIVE_INFINITY,
  );
  let q = db.qb
    .selectFrom('deploys')
    .select(['release', 'environment', 'finished_at'])
    .where('workspace_id', '=', workspaceId)
    .where('finished_at', '>=', new Date(since - DAY_MS).toISOString())
    .where('finished_at', '<=', new Date(now).toISOString())
    .where(jsonArrayHasAny(db.engine, 'deploys.projects', issue.projectKeys));
  if (issue.environments.length) q = q.where('environment', 'in', issue.environments);
  const deploys = (await db.all(q.orderBy('finished_at'))).map((d) => ({ ...d, at: Date.parse(d.finished_at!) }));
  const effects: DeployEffect[] = [];
  for (const d of deploys) {
    if (d.at < since || d.at > now - HOUR_MS) continue;
    const { from, until } = deployWindow(deploys, d, now);
    effects.push({
      release: d.release,
      environment: d.environment,
      finishedAt: d.finished_at!,
      ...judge(series, d.at, from, until),
    });
  }
  return effects.reverse().slice(0, MAX_DEPLOYS);
}

/**
 * What deploy `d` is judged on, among `deploys` (its project's, any order): the 24 h before it (from
 * the previous deploy to its environment, if later, but at least an hour) and the 24 h after it, until
 * the next one or `now`. Deploys at the same time as `d` (itself, a duplicate) bound nothing.
 */
export function deployWindow(
  deploys: readonly { environment: string; at: number }[],
  d: { environment: string; at: number },
  now: number,
): { from: number; until: number } {
  let previous = Number.NEGATIVE_INFINITY;
  let next = Number.POSITIVE_INFINITY;
  for (const o of deploys) {
    if (o.environment !== d.environment) continue;
    if (o.at < d.at) previous = Math.max(previous, o.at);
    else if (o.at > d.at) next = Math.min(next, o.at);
  }
  return {
    from: Math.max(d.at - DAY_MS, Math.min(previous, d.at - HOUR_MS)),
    until: Math.min(d.at + DAY_MS, next, now),
  };
}

/** Before [from, at) vs after [at, until): the rates and what the change means. */
export function judge(
  series: EventSeries,
  at: number,
  from: number,
  until: number,
): Pick<DeployEffect, 'perHourBefore' | 'perHourAfter' | 'verdict'> {
  const hoursBefore = (at - from) / HOUR_MS;
  const hoursAfter = Math.max((until - at) / HOUR_MS, 1 / 60);
  const perHourBefore = series.count(from, at) / hoursBefore;
  const after = series.count(at, until);
  const expected = perHourBefore * hoursAfter;
  let verdict: DeployEffect['verdict'] = 'unchanged';
  if (after < 0.5 && expected >= MIN_CHANGE) verdict = 'gone';
  else if (after >= 2 * expected && after - expected >= MIN_CHANGE) verdict = 'worse';
  else if (after <= expected / 2 && expected - after >= MIN_CHANGE) verdict = 'better';
  return { perHourBefore: rate(perHourBefore), perHourAfter: rate(after / hoursAfter), verdict };
}

function rate(perHour: number): number {
  return Math.round(perHour * 100) / 100;
}

/** As the answers write times: `2026-11-19 16:00Z`. */
function hourOf(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function hoursAgo(ms: number): string {
  const hours = Math.round(ms / HOUR_MS);
  return hours < 1 ? 'under an hour ago' : `${hours} h ago`;
}
