import type { IssueStatsRecord } from '../../memory/records.js';
import { arr, count, num, obj } from './values.js';

const STEP_RESOLUTION: Record<number, IssueStatsRecord['resolution']> = { 3600: 'hour', 86400: 'day' };

/**
 * An issue's `stats`: those an issue from the list (`groupStatsPeriod`: `24h` hourly, `14d` daily) or its details
 * (`24h` and `30d`) carry: `[epochSeconds, count]` pairs, as Sentry's counts at `observedAt`. The
 * resolution comes from the spacing of the buckets, not the key, so `auto` and unknown keys work;
 * a series that is neither hourly nor daily is left out.
 */
export function mapApiIssueStats(issueId: string, value: unknown, observedAt: string): IssueStatsRecord[] {
  const stats = obj(value);
  if (!stats) return [];
  const records = new Map<IssueStatsRecord['resolution'], IssueStatsRecord>();
  for (const series of Object.values(stats)) {
    const points = arr(series)
      .map((point) => arr(point))
      .map(([at, n]) => ({ at: num(at), n: count(n) ?? 0 }))
      .filter((p): p is { at: number; n: number } => p.at !== null)
      .sort((a, b) => a.at - b.at);
    if (points.length < 2) continue;
    const resolution = STEP_RESOLUTION[points[1].at - points[0].at];
    // Two series of one resolution (details' 24h beside a list's): the longer one says more.
    if (!resolution || (records.get(resolution)?.buckets.length ?? 0) >= points.length) continue;
    const buckets = points.map((p) => ({ start: new Date(p.at * 1000).toISOString(), count: p.n }));
    records.set(resolution, {
      kind: 'issue_stats',
      issueId,
      observedAt,
      resolution,
      coveredFrom: buckets[0].start,
      buckets,
    });
  }
  return [...records.values()];
}
