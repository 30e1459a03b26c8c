import { sql, type RawBuilder } from 'kysely';
import type { ObservationType } from '../records.js';
import type { MemoryDatabase } from '../database.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { QueryError } from './errors.js';

/** What an agent asks the timeline for, each a set of observation types. */
const KIND_TYPES = {
  new: ['issue.created'],
  regressed: ['issue.regressed'],
  resolved: ['issue.resolved'],
  reopened: ['issue.unresolved'],
  archived: ['issue.ignored'],
  assigned: ['issue.assigned', 'issue.unassigned'],
  alert: ['alert.triggered', 'alert.critical', 'alert.warning', 'alert.resolved', 'alert.open'],
  deploy: ['deploy.finished'],
  release: ['release.created'],
  comment: ['comment.created', 'comment.updated', 'comment.deleted'],
  seer: ['insight.completed'],
} as const satisfies Record<string, readonly ObservationType[]>;

export type TimelineKind = keyof typeof KIND_TYPES;
export const TIMELINE_KINDS = Object.keys(KIND_TYPES) as TimelineKind[];
const kindOfType = new Map<string, TimelineKind>(
  TIMELINE_KINDS.flatMap((kind) => KIND_TYPES[kind].map((type) => [type, kind] as const)),
);

export interface TimelineQuery {
  /** ISO window [since, until). */
  since: string;
  until: string;
  project?: string;
  environment?: string;
  kinds?: readonly TimelineKind[];
  limit?: number;
  cursor?: string;
}

export interface TimelineItem {
  /** The observation's id; with `occurredAt` it positions a cursor. */
  id: string;
  occurredAt: string;
  kind: TimelineKind;
  type: string;
  summary: string;
  issueId: string | null;
  shortId: string | null;
  project: string | null;
  release: string | null;
  environment: string | null;
}

export interface TimelineResult {
  since: string;
  until: string;
  /** How many facts of each kind the whole window holds, whatever the page shows. */
  counts: Partial<Record<TimelineKind, number>>;
  /** True when some type of fact was counted only up to MAX_COUNTED: its kind's total is then a lower bound. */
  countsCapped: boolean;
  items: TimelineItem[];
  /** Pass back to get the next (older) page; null when this page is the last. */
  nextCursor: string | null;
}

export const MAX_COUNTED = 5_000;

interface Position {
  at: string;
  id: string;
}

const isPosition = (v: unknown): v is Position =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Position).at === 'string' &&
  typeof (v as Position).id === 'string';

/** What happened in a window, newest first, for the org or one project or environment. */
export async function getTimeline(
  db: MemoryDatabase,
  workspaceId: string,
  query: TimelineQuery,
): Promise<TimelineResult> {
  if (!(query.since < query.until))
    throw new QueryError(`the window is empty: since (${query.since}) must be before until (${query.until})`);
  const types = (query.kinds?.length ? query.kinds : TIMELINE_KINDS).flatMap((k) => KIND_TYPES[k]);
  const limit = query.limit ?? 50;
  // A few kinds: walk the (type, time) index per kind. All kinds: walk the time index newest first and
  // filter types (`+` keeps SQLite off the type index, which would gather the whole window to sort it).
  const pageTypeColumn = query.kinds?.length || db.engine !== 'sqlite' ? sql<string>`o.type` : sql<string>`+o.type`;
  const filtered = (typeColumn: RawBuilder<string>, typeList: readonly string[]) => {
    let q = db.qb
      .selectFrom('observations as o')
      .leftJoin('issues as i', (join) =>
        join.onRef('i.workspace_id', '=', 'o.workspace_id').onRef('i.id', '=', 'o.issue_id'),
      )
      .where('o.workspace_id', '=', workspaceId)
      .where(typeColumn, 'in', typeList)
      .where('o.occurred_at', '>=', query.since)
      .where('o.occurred_at', '<', query.until);
    if (query.project) q = q.where(observationInProjects([query.project]));
    if (query.environment) {
      const env = query.environment;
      // Issue transitions carry no environment: they belong to an environment the issue was seen in.
      q = q.where(
        sql<boolean>`(o.environment = ${env} OR (o.environment IS NULL AND EXISTS (SELECT 1 FROM issue_facets f WHERE f.workspace_id = o.workspace_id AND f.facet = 'environment' AND f.value = ${env} AND f.issue_id = o.issue_id)))`,
      );
    }
    return q;
  };
  let page = filtered(pageTypeColumn, types).select([
    'o.id',
    'o.occurred_at',
    'o.type',
    'o.summary',
    'o.issue_id',
    'i.short_id',
    'o.release',
    'o.environment',
    (eb) => eb.fn.coalesce('o.project_slug', 'i.project_slug').as('project'),
  ]);
  if (query.cursor) {
    const from = decodeCursor(query.cursor, isPosition);
    page = page.where((eb) =>
      eb.or([eb('o.occurred_at', '<', from.at), eb.and([eb('o.occurred_at', '=', from.at), eb('o.id', '<', from.id)])]),
    );
  }
  const rows = await db.all(
    page
      .orderBy('o.occurred_at', 'desc')
      .orderBy('o.id', 'desc')
      .limit(limit + 1),
  );
  // Each type is counted on its own (type, time) index range — without reading rows unless a filter
  // needs them — and up to MAX_COUNTED, so a wide window stays fast; `countsCapped` says when a count
  // stopped there.
  const countOf = (type: string) =>
    db.qb
      .selectFrom(
        filtered(sql<string>`o.type`, [type])
          .select(sql.lit(1).as('x'))
          .limit(MAX_COUNTED + 1)
          .as('c'),
      )
      .select([sql<string>`cast(${type} as text)`.as('type'), (eb) => eb.fn.countAll<number>().as('n')]);
  const counted = await db.all(
    types.slice(1).reduce((union, type) => union.unionAll(countOf(type)), countOf(types[0])),
  );
  const counts: TimelineResult['counts'] = {};
  let countsCapped = false;
  for (const row of counted) {
    const n = Number(row.n);
    if (!n) continue;
    countsCapped ||= n > MAX_COUNTED;
    const kind = kindOfType.get(row.type)!;
    counts[kind] = (counts[kind] ?? 0) + Math.min(n, MAX_COUNTED);
  }
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    since: query.since,
    until: query.until,
    counts,
    countsCapped,
    items: shown.map((r) => ({
      id: r.id,
      occurredAt: r.occurred_at,
      kind: kindOfType.get(r.type)!,
      type: r.type,
      summary: r.summary,
      issueId: r.issue_id,
      shortId: r.short_id,
      project: r.project,
      release: r.release,
      environment: r.environment,
    })),
    nextCursor: rows.length > limit && last ? timelineCursor(last.occurred_at, last.id) : null,
  };
}

/**
 * Whether observation `o` belongs to one of `projects`: by its own project, else by its issue's. The
 * issue is read only for the few observations without one, so a filtered count stays on the index
 * (shared-sql.ts).
 */
export function observationInProjects(projects: readonly string[]): RawBuilder<boolean> {
  const list = sql.join(projects.map((p) => p.toLowerCase()));
  return sql<boolean>`(CASE WHEN o.project_slug IS NOT NULL THEN lower(o.project_slug) IN (${list})
    ELSE EXISTS (SELECT 1 FROM issues p WHERE p.workspace_id = o.workspace_id AND p.id = o.issue_id AND lower(p.project_slug) IN (${list})) END)`;
}

/** The cursor that continues after the item at (at, observation id). */
export function timelineCursor(at: string, id: string): string {
  return encodeCursor({ at, id } satisfies Position);
}
