/**
 * Event counts at the agent bench's scale: gives every issue active in the last 14 days of the bench
 * memory the hourly (24 h) and daily (14 d) counts a sync reads from Sentry's `stats`, at a rate of
 * its own that some deploys change, so the trend, the before/after-deploy verdicts and the release
 * context per deploy are measured on a memory that holds them.
 */
import type { IssueStatsRecord } from '../src/memory/records.js';
import type { MemoryStore } from '../src/memory/store.js';
import { Prng } from '../src/sentry/emulator/prng.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Writes the counts once per bench database (kept with it). */
export async function ensureEventCounts(
  store: MemoryStore,
  workspaceId: string,
  epoch: number,
  log: (line: string) => void,
): Promise<void> {
  const { db } = store;
  if (await db.get(db.qb.selectFrom('issue_count_snapshots').select('issue_id').limit(1))) return;
  const issues = await db.all(
    db.qb
      .selectFrom('issues')
      .select(['id', 'count'])
      .where('workspace_id', '=', workspaceId)
      .where('last_seen', '>=', new Date(epoch - 14 * DAY).toISOString()),
  );
  log(`writing event counts for ${issues.length} issues active in the last 14 days …`);
  const rng = new Prng(22);
  const observedAt = new Date(epoch).toISOString();
  const today = Math.floor(epoch / DAY) * DAY;
  const hour = Math.floor(epoch / HOUR) * HOUR;
  for (let i = 0; i < issues.length; i += 500) {
    const batch: IssueStatsRecord[] = issues.slice(i, i + 500).flatMap((issue) => {
      const perHour = Math.max(0.05, Number(issue.count ?? 1) / (60 * 24));
      // A third of the issues change their rate at some point of the fortnight (×4 or ÷4).
      const turn = rng.chance(0.33) ? epoch - rng.int(1, 13 * 24) * HOUR : null;
      const factor = rng.chance(0.5) ? 4 : 0.25;
      const rate = (at: number) => (turn !== null && at >= turn ? perHour * factor : perHour);
      const draw = (at: number, hours: number) => Math.round(rate(at) * hours * (0.5 + rng.next()));
      const days = Array.from({ length: 14 }, (_, k) => today - (13 - k) * DAY);
      const hours = Array.from({ length: 24 }, (_, k) => hour - (23 - k) * HOUR);
      return [
        {
          kind: 'issue_stats',
          issueId: issue.id,
          observedAt,
          resolution: 'day',
          coveredFrom: new Date(days[0]).toISOString(),
          buckets: days.map((d) => ({ start: new Date(d).toISOString(), count: draw(d, 24) })),
        },
        {
          kind: 'issue_stats',
          issueId: issue.id,
          observedAt,
          resolution: 'hour',
          coveredFrom: new Date(hours[0]).toISOString(),
          buckets: hours.map((h) => ({ start: new Date(h).toISOString(), count: draw(h, 1) })),
        },
      ];
    });
    await store.apply(workspaceId, 'sentry', batch, { durable: false });
  }
}
