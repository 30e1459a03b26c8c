import { jsonArrayHasAny, type MemoryDatabase } from '../database.js';
import { bucketStart, DAY_MS, HOUR_MS, type Resolution } from '../event-counts.js';

/** Deploy markers and issue annotations beyond these are counted, not listed (the newest are kept). */
export const MAX_DEPLOYS = 500;
export const MAX_ANNOTATIONS = 200;
const BUCKET_MS: Record<Resolution, number> = { hour: HOUR_MS, day: DAY_MS };
const ANNOTATION_TYPES = {
  'issue.created': 'new',
  'issue.regressed': 'regressed',
  'issue.resolved': 'resolved',
} as const;

export interface EventChart {
  since: string;
  until: string;
  interval: Resolution;
  buckets: string[];
  series: { project: string; counts: number[]; total: number }[];
  deploys: { release: string; environment: string; at: string; projects: string[] }[];
  deploysOmitted: number;
  annotations: {
    kind: 'new' | 'regressed' | 'resolved';
    at: string;
    issueId: string;
    shortId: string | null;
    title: string | null;
    project: string | null;
  }[];
  annotationsOmitted: number;
}

/** The bucket starts from the one `since` falls in up to `until` (exclusive), in epoch ms. */
export function bucketsOf(interval: Resolution, since: string, until: string): number[] {
  const starts: number[] = [];
  for (let t = Date.parse(bucketStart(interval, since)); t < Date.parse(until); t += BUCKET_MS[interval])
    starts.push(t);
  return starts;
}

/**
 * Events per bucket per project over [since, until), with the deploys and the issues that appeared,
 * regressed or were resolved in it. The counts are the memory's stored counts at that resolution,
 * summed per project in one query from the counts' project index (no count row is read).
 */
export async function eventChart(
  db: MemoryDatabase,
  workspaceId: string,
  query: { since: string; until: string; interval: Resolution; projects?: readonly string[] },
): Promise<EventChart> {
  const starts = bucketsOf(query.interval, query.since, query.until);
  const since = new Date(starts[0] ?? Date.parse(query.since)).toISOString();
  const projects = query.projects?.length ? [...new Set(query.projects)].sort() : await projectsOf(db, workspaceId);
  const [counts, deploys, annotations] = await Promise.all([
    projects.length
      ? db.all(
          db.qb
            .selectFrom('issue_event_counts')
            .select(['project', 'start', (eb) => eb.fn.sum<number>(eb('source', '+', eb.ref('received'))).as('n')])
            .where('project', 'in', projects)
            .where('workspace_id', '=', workspaceId)
            .where('resolution', '=', query.interval)
            .where('start', '>=', since)
            .where('start', '<', query.until)
            .groupBy(['project', 'start']),
        )
      : [],
    deployMarkers(db, workspaceId, since, query.until, query.projects?.length ? projects : null),
    issueAnnotations(db, workspaceId, since, query.until, query.projects?.length ? projects : null),
  ]);
  const index = new Map(starts.map((t, i) => [t, i]));
  const series = new Map(projects.map((p) => [p, { project: p, counts: starts.map(() => 0), total: 0 }]));
  for (const row of counts) {
    const i = index.get(Date.parse(row.start));
    const s = series.get(row.project!);
    if (i === undefined || !s) continue;
    s.counts[i] += Number(row.n);
    s.total += Number(row.n);
  }
  return {
    since,
    until: query.until,
    interval: query.interval,
    buckets: starts.map((t) => new Date(t).toISOString()),
    series: [...series.values()],
    ...deploys,
    ...annotations,
  };
}

/** Every project slug the workspace's issues name, from the (workspace, project, last seen) index. */
async function projectsOf(db: MemoryDatabase, workspaceId: string): Promise<string[]> {
  const rows = await db.all(
    db.qb
      .selectFrom('issues')
      .select('project_slug')
      .distinct()
      .where('workspace_id', '=', workspaceId)
      .where('project_slug', 'is not', null)
      .orderBy('project_slug'),
  );
  return rows.map((r) => r.project_slug!);
}

async function deployMarkers(
  db: MemoryDatabase,
  workspaceId: string,
  since: string,
  until: string,
  projects: string[] | null,
): Promise<Pick<EventChart, 'deploys' | 'deploysOmitted'>> {
  // A deploy names its projects by slug or by id: a filter by slug matches both.
  const keys = projects ? [...projects, ...(await projectIds(db, workspaceId, projects))] : null;
  const inWindow = db.qb
    .selectFrom('deploys')
    .where('workspace_id', '=', workspaceId)
    .where('finished_at', '>=', since)
    .where('finished_at', '<', until)
    .$if(keys !== null, (qb) => qb.where(jsonArrayHasAny(db.engine, 'deploys.projects', keys!)));
  const rows = await db.all(
    inWindow
      .select(['release', 'environment', 'finished_at', 'projects'])
      .orderBy('finished_at', 'desc')
      .orderBy('id')
      .limit(MAX_DEPLOYS + 1),
  );
  const omitted =
    rows.length > MAX_DEPLOYS
      ? Number((await db.get(inWindow.select((eb) => eb.fn.countAll<number>().as('n'))))!.n) - MAX_DEPLOYS
      : 0;
  return {
    deploys: rows
      .slice(0, MAX_DEPLOYS)
      .reverse()
      .map((d) => ({
        release: d.release,
        environment: d.environment,
        at: d.finished_at!,
        projects: JSON.parse(d.projects) as string[],
      })),
    deploysOmitted: omitted,
  };
}

async function projectIds(db: MemoryDatabase, workspaceId: string, slugs: string[]): Promise<string[]> {
  const rows = await db.all(
    db.qb.selectFrom('projects').select('id').where('workspace_id', '=', workspaceId).where('slug', 'in', slugs),
  );
  return rows.map((r) => r.id);
}

async function issueAnnotations(
  db: MemoryDatabase,
  workspaceId: string,
  since: string,
  until: string,
  projects: string[] | null,
): Promise<Pick<EventChart, 'annotations' | 'annotationsOmitted'>> {
  const inWindow = db.qb
    .selectFrom('observations as o')
    .where('o.workspace_id', '=', workspaceId)
    .where('o.type', 'in', Object.keys(ANNOTATION_TYPES))
    .where('o.occurred_at', '>=', since)
    .where('o.occurred_at', '<', until)
    .where('o.issue_id', 'is not', null)
    .$if(projects !== null, (qb) => qb.where('o.project_slug', 'in', projects!));
  const rows = await db.all(
    inWindow
      .leftJoin('issues as i', (join) =>
        join.onRef('i.workspace_id', '=', 'o.workspace_id').onRef('i.id', '=', 'o.issue_id'),
      )
      .select(['o.type', 'o.occurred_at', 'o.issue_id', 'o.project_slug', 'i.short_id', 'i.title'])
      .orderBy('o.occurred_at', 'desc')
      .orderBy('o.id', 'desc')
      .limit(MAX_ANNOTATIONS + 1),
  );
  const omitted =
    rows.length > MAX_ANNOTATIONS
      ? Number((await db.get(inWindow.select((eb) => eb.fn.countAll<number>().as('n'))))!.n) - MAX_ANNOTATIONS
      : 0;
  return {
    annotations: rows
      .slice(0, MAX_ANNOTATIONS)
      .reverse()
      .map((o) => ({
        kind: ANNOTATION_TYPES[o.type as keyof typeof ANNOTATION_TYPES],
        at: o.occurred_at,
        issueId: o.issue_id!,
        shortId: o.short_id,
        title: o.title,
        project: o.project_slug,
      })),
    annotationsOmitted: omitted,
  };
}
