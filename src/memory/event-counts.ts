import { sql, type Insertable } from 'kysely';
import { keyIn, rowsStatement, type MemoryDatabase } from './database.js';
import { mergeKeys } from './merge.js';
import type { Database } from './schema.js';
import type { IssueStatsRecord } from './records.js';
import { eventsAfter } from './stored.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Buckets older than this are dropped when a snapshot arrives: the trend and the deploys look back 30 days. */
const KEPT_MS = 31 * DAY_MS;

export type Resolution = 'hour' | 'day';
const RESOLUTIONS: readonly Resolution[] = ['hour', 'day'];
const BUCKET_MS: Record<Resolution, number> = { hour: HOUR_MS, day: DAY_MS };

/** The start of the bucket `at` falls in (ISO). */
export function bucketStart(resolution: Resolution, at: string | number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return new Date(Math.floor(ms / BUCKET_MS[resolution]) * BUCKET_MS[resolution]).toISOString();
}

/**
 * A snapshot of the source's counts replaces the buckets it covers and re-adds the stored events
 * newer than its time, so no event is counted twice; an older snapshot than the one stored is ignored.
 * A snapshot that begins before the previous one was read extends its span; otherwise it starts a new one.
 */
export async function applyIssueStats(db: MemoryDatabase, workspaceId: string, r: IssueStatsRecord): Promise<void> {
  await db.lock(mergeKeys.eventCounts(workspaceId, r.issueId));
  const key = { workspace_id: workspaceId, issue_id: r.issueId, resolution: r.resolution };
  const spans = db.qb
    .selectFrom('issue_count_snapshots')
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', r.issueId)
    .where('resolution', '=', r.resolution);
  const latest = await db.get(spans.select(['covered_from', 'taken_at']).orderBy('taken_at', 'desc').limit(1));
  if (latest && r.observedAt <= latest.taken_at) return;
  const span = db.qb
    .deleteFrom('issue_count_snapshots')
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', r.issueId)
    .where('resolution', '=', r.resolution);
  const continues = latest && latest.taken_at >= r.coveredFrom;
  if (continues) await db.run(span.where('covered_from', '=', latest.covered_from));
  await db.run(span.where('taken_at', '<', new Date(Date.parse(r.observedAt) - KEPT_MS).toISOString()));
  await db.run(
    db.qb
      .insertInto('issue_count_snapshots')
      .values({
        ...key,
        covered_from: continues && latest.covered_from < r.coveredFrom ? latest.covered_from : r.coveredFrom,
        taken_at: r.observedAt,
      })
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'issue_id', 'resolution', 'covered_from']).doUpdateSet({ taken_at: r.observedAt }),
      ),
  );
  const buckets = db.qb
    .deleteFrom('issue_event_counts')
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', r.issueId)
    .where('resolution', '=', r.resolution);
  await db.run(buckets.where('start', '>=', r.coveredFrom));
  await db.run(buckets.where('start', '<', new Date(Date.parse(r.observedAt) - KEPT_MS).toISOString()));
  const counted = r.buckets.filter((b) => b.count > 0 && b.start >= r.coveredFrom);
  const project = await projectOf(db, workspaceId, r.issueId);
  if (project) await fillProjects(db, [[workspaceId, r.issueId, project]]);
  if (counted.length)
    await db.run(
      db.qb
        .insertInto('issue_event_counts')
        .values(counted.map((b) => ({ ...key, start: b.start, project, source: b.count, received: 0 }))),
    );
  const received = new EventCounts();
  for (const event of await eventsAfter(db, workspaceId, r.issueId, r.observedAt))
    received.add(workspaceId, r.issueId, project, r.resolution, event.occurred_at);
  await received.write(db);
}

type Snapshots = Map<string, { resolution: Resolution; taken_at: string }[]>;
const issueKey = (workspaceId: string, issueId: string) => `${workspaceId}\u0000${issueId}`;

/** The latest snapshot of each resolution of each of `issues` ([workspace, issue] pairs). */
export async function latestSnapshots(
  db: MemoryDatabase,
  issues: readonly (readonly [string, string])[],
): Promise<Snapshots> {
  const result: Snapshots = new Map();
  if (!issues.length) return result;
  const rows = await db.all(
    db.qb
      .selectFrom('issue_count_snapshots')
      .select(['workspace_id', 'issue_id', 'resolution', (eb) => eb.fn.max('taken_at').as('taken_at')])
      .where(keyIn(['workspace_id', 'issue_id'], issues))
      .groupBy(['workspace_id', 'issue_id', 'resolution']),
  );
  for (const row of rows) {
    const key = issueKey(row.workspace_id, row.issue_id);
    result.set(key, [...(result.get(key) ?? []), { resolution: row.resolution, taken_at: row.taken_at }]);
  }
  return result;
}

/**
 * Newly stored events, added up per bucket before they are written: each in the resolutions whose
 * snapshot of its issue does not count it yet. A bucket keeps the project it was first counted with.
 */
export class EventCounts {
  private readonly buckets = new Map<string, Insertable<Database['issue_event_counts']>>();

  /** Counts a newly stored event of `issueId`, given the issue's latest snapshots (see latestSnapshots). */
  addEvent(
    snapshots: Snapshots,
    workspaceId: string,
    issueId: string,
    project: string | null,
    occurredAt: string,
  ): void {
    const taken = snapshots.get(issueKey(workspaceId, issueId)) ?? [];
    for (const resolution of RESOLUTIONS) {
      const snapshot = taken.find((s) => s.resolution === resolution);
      if (!snapshot || occurredAt > snapshot.taken_at) this.add(workspaceId, issueId, project, resolution, occurredAt);
    }
  }

  add(workspaceId: string, issueId: string, project: string | null, resolution: Resolution, occurredAt: string): void {
    const start = bucketStart(resolution, occurredAt);
    const key = `${issueKey(workspaceId, issueId)}\u0000${resolution}\u0000${start}`;
    const bucket = this.buckets.get(key);
    if (bucket) bucket.received = Number(bucket.received) + 1;
    else
      this.buckets.set(key, {
        workspace_id: workspaceId,
        issue_id: issueId,
        resolution,
        start,
        project,
        source: 0,
        received: 1,
      });
  }

  /** Adds the counts to what is stored, in one statement. */
  async write(db: MemoryDatabase): Promise<void> {
    if (!this.buckets.size) return;
    await db.run(
      rowsStatement(db, 'add received event counts', [...this.buckets.values()], (qb, rows) =>
        qb
          .insertInto('issue_event_counts')
          .values([...rows])
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'issue_id', 'resolution', 'start'])
              .doUpdateSet((eb) => ({ received: eb('issue_event_counts.received', '+', eb.ref('excluded.received')) })),
          ),
      ),
    );
  }
}

/** A newly stored event, in each resolution whose snapshot does not count it yet. */
export async function countEvent(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  occurredAt: string,
): Promise<void> {
  await db.lock(mergeKeys.eventCounts(workspaceId, issueId));
  const counts = new EventCounts();
  counts.addEvent(
    await latestSnapshots(db, [[workspaceId, issueId]]),
    workspaceId,
    issueId,
    await projectOf(db, workspaceId, issueId),
    occurredAt,
  );
  await counts.write(db);
}

/**
 * Events counted before their issue's project was known (an event delivered ahead of its issue) get
 * it once it is: `issues` are [workspace, issue, project] triples. Counts then do not depend on the
 * order the deliveries came in.
 */
export async function fillProjects(
  db: MemoryDatabase,
  issues: readonly (readonly [string, string, string])[],
): Promise<void> {
  if (!issues.length) return;
  const known = sql.join(issues.map((issue) => sql`(${sql.join(issue)})`));
  const update = sql`UPDATE issue_event_counts SET project = v.column3 FROM (VALUES ${known}) AS v
     WHERE issue_event_counts.workspace_id = v.column1 AND issue_event_counts.issue_id = v.column2
       AND issue_event_counts.project IS NULL`;
  await db.run({ compile: () => update.compile(db.qb) });
}

/** The issue's project slug, when the issue is stored. */
async function projectOf(db: MemoryDatabase, workspaceId: string, issueId: string): Promise<string | null> {
  const issue = await db.get(
    db.qb.selectFrom('issues').select('project_slug').where('workspace_id', '=', workspaceId).where('id', '=', issueId),
  );
  return issue?.project_slug ?? null;
}

/**
 * One issue's counts as the memory knows them. An hour the source's hourly counts cover (from their
 * first bucket to when they were read) is taken from them; else an hour its daily counts cover, as
 * the day's count spread evenly over its hours; else the stored events counted in it (all of them
 * with no snapshot, or after both).
 */
export class EventSeries {
  private readonly hours = new Map<number, number>();
  private readonly days = new Map<number, number>();
  private readonly covered: Record<Resolution, { from: number; until: number }[]> = { hour: [], day: [] };

  /** The source's counts of `resolution` cover [coveredFrom, takenAt]. */
  snapshot(resolution: Resolution, coveredFrom: string, takenAt: string): void {
    const from = Date.parse(coveredFrom);
    this.covered[resolution].push({
      from: resolution === 'day' ? Math.floor(from / DAY_MS) * DAY_MS : from,
      until: Date.parse(takenAt),
    });
  }

  private life = { first: Number.NEGATIVE_INFINITY, last: Number.POSITIVE_INFINITY };

  /** The issue's first and last event, when known: a day's count spreads over the hours between them only. */
  lifetime(firstSeen: string | null, lastSeen: string | null): this {
    this.life = {
      first: firstSeen ? Date.parse(firstSeen) : Number.NEGATIVE_INFINITY,
      last: lastSeen ? Date.parse(lastSeen) : Number.POSITIVE_INFINITY,
    };
    return this;
  }

  /** A bucket's count (starting at `start`, epoch ms). */
  add(resolution: Resolution, start: number, count: number): void {
    (resolution === 'hour' ? this.hours : this.days).set(start, count);
  }

  /** Whether anything at all was counted (a snapshot or an event). */
  get known(): boolean {
    return (
      this.hours.size > 0 || this.days.size > 0 || this.covered.hour !== undefined || this.covered.day !== undefined
    );
  }

  /** Events in [from, to), in epoch ms; partial hours count in proportion. */
  count(from: number, to: number): number {
    let total = 0;
    for (let h = Math.floor(from / HOUR_MS) * HOUR_MS; h < to; h += HOUR_MS) {
      const part = (Math.min(to, h + HOUR_MS) - Math.max(from, h)) / HOUR_MS;
      total += this.hour(h) * part;
    }
    return total;
  }

  /** The source's count of the UTC day starting at `day` when a daily snapshot covers all of it; else null. */
  day(day: number): number | null {
    const whole = this.covered.day.some((s) => day >= s.from && day + DAY_MS <= s.until);
    return whole ? (this.days.get(day) ?? 0) : null;
  }

  private hour(h: number): number {
    const within = (spans: { from: number; until: number }[]) => spans.some((s) => h >= s.from && h < s.until);
    if (within(this.covered.hour)) return this.hours.get(h) ?? 0;
    if (within(this.covered.day)) {
      if (h + HOUR_MS <= this.life.first || h > this.life.last) return 0;
      const day = Math.floor(h / DAY_MS) * DAY_MS;
      const first = Math.max(day, Math.floor(this.life.first / HOUR_MS) * HOUR_MS);
      const last = Math.min(day + DAY_MS, this.life.last + HOUR_MS);
      return (this.days.get(day) ?? 0) / Math.max(1, Math.round((last - first) / HOUR_MS));
    }
    return this.hours.get(h) ?? 0;
  }
}

/** The counts of `issueIds` from `since` on, one series per issue (an empty one for an issue with none). */
export async function eventSeries(
  db: MemoryDatabase,
  workspaceId: string,
  issueIds: readonly string[],
  since: number,
): Promise<Map<string, EventSeries>> {
  const result = new Map<string, EventSeries>();
  if (!issueIds.length) return result;
  const [rows, snapshots] = await Promise.all([
    db.all(
      db.qb
        .selectFrom('issue_event_counts')
        .select(['issue_id', 'resolution', 'start', 'source', 'received'])
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', 'in', issueIds)
        .where('start', '>=', bucketStart('day', since)),
    ),
    db.all(
      db.qb
        .selectFrom('issue_count_snapshots')
        .select(['issue_id', 'resolution', 'covered_from', 'taken_at'])
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', 'in', issueIds),
    ),
  ]);
  const series = (id: string) => {
    if (!result.has(id)) result.set(id, new EventSeries());
    return result.get(id)!;
  };
  for (const id of issueIds) series(id);
  for (const s of snapshots) series(s.issue_id).snapshot(s.resolution, s.covered_from, s.taken_at);
  for (const row of rows)
    series(row.issue_id).add(row.resolution, Date.parse(row.start), Number(row.source) + Number(row.received));
  return result;
}
