import { sql } from 'kysely';
import { jsonArrayHasAny, type MemoryDatabase } from '../database.js';
import { bucketStart, DAY_MS, eventSeries, HOUR_MS } from '../event-counts.js';
import { NotInMemoryError, QueryError } from './errors.js';
import { deployWindow, judge, MIN_CHANGE } from './event-trend.js';
import { observationInProjects } from './timeline.js';

const MAX_ISSUES = 25;
/** Issues named per deploy and kind of change. */
const MAX_IMPACTED = 10;
/** Issues judged per release: its projects' busiest around its deploys, and the new ones. */
const MAX_JUDGED = 60;

export interface ReleaseIssue {
  id: string;
  shortId: string | null;
  title: string | null;
  project: string | null;
  status: string | null;
  count: number | null;
  userCount: number | null;
  firstSeen: string | null;
}

export interface ReleaseContext {
  version: string;
  shortVersion: string | null;
  projects: string[];
  createdAt: string | null;
  releasedAt: string | null;
  commitCount: number | null;
  deploys: {
    id: string;
    environment: string;
    startedAt: string | null;
    finishedAt: string | null;
    url: string | null;
    /** What changed after it for its projects' issues; null for a deploy under an hour old or unfinished. */
    effects: DeployImpact | null;
  }[];
  /** The release deployed after this one to the same projects, which bounds "after its deploys". */
  nextRelease: { version: string; createdAt: string | null } | null;
  newIssues: { total: number; top: ReleaseIssue[] };
  regressions: { occurredAt: string; issueId: string | null; shortId: string | null; summary: string }[];
  resolved: { occurredAt: string; issueId: string | null; shortId: string | null; summary: string }[];
  commits: { id: string; message: string | null; author: string | null; files: string[] }[];
}

export interface ImpactedIssue {
  id: string;
  shortId: string | null;
  title: string | null;
  perHourBefore: number;
  perHourAfter: number;
}

/** Issues of the deploy's projects, seen in its environment, by how their rate changed after it. */
export interface DeployImpact {
  worse: ImpactedIssue[];
  /** First seen after the deploy. */
  appeared: ImpactedIssue[];
  better: ImpactedIssue[];
  /** Events before, none after. */
  gone: ImpactedIssue[];
}

/** Finds a release by full version (`checkout-api@2.14.0`), or by its short version when that is unambiguous. */
export async function resolveRelease(db: MemoryDatabase, workspaceId: string, ref: string): Promise<string> {
  const version = ref.trim();
  if (!version) throw new QueryError('version must be a release version such as checkout-api@2.14.0');
  const exact = await db.get(
    db.qb
      .selectFrom('releases')
      .select('version')
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version),
  );
  if (exact) return exact.version;
  const candidates = await db.all(
    db.qb
      .selectFrom('releases')
      .select('version')
      .where('workspace_id', '=', workspaceId)
      .where((eb) =>
        eb.or([eb('short_version', '=', version), eb('version', 'like', `%@${version.replace(/[%_\\]/g, '')}`)]),
      )
      .orderBy('created_at', 'desc')
      .limit(6),
  );
  if (candidates.length === 1) return candidates[0].version;
  if (candidates.length > 1)
    throw new QueryError(
      `"${version}" names several releases (${candidates.map((c) => c.version).join(', ')}): pass the full version`,
    );
  throw new NotInMemoryError(`no release "${version}" in memory: pass a full version such as project@1.2.3`);
}

/** The release `ref` names; `now` bounds the judgement of its deploys (an hour old at least, 24 h after at most). */
export async function getReleaseContext(
  db: MemoryDatabase,
  workspaceId: string,
  ref: string,
  now: number,
): Promise<ReleaseContext> {
  const version = await resolveRelease(db, workspaceId, ref);
  const release = (await db.get(
    db.qb.selectFrom('releases').selectAll().where('workspace_id', '=', workspaceId).where('version', '=', version),
  ))!;
  const projects = JSON.parse(release.projects) as string[];
  const deploys = await db.all(
    db.qb
      .selectFrom('deploys')
      .select(['id', 'environment', 'started_at', 'finished_at', 'url'])
      .where('workspace_id', '=', workspaceId)
      .where('release', '=', version)
      .orderBy('finished_at'),
  );
  const nextRelease = projects.length
    ? await db.get(
        db.qb
          .selectFrom('releases')
          .select(['version', 'created_at'])
          .where('workspace_id', '=', workspaceId)
          .where('created_at', '>', release.created_at ?? '')
          .where(jsonArrayHasAny(db.engine, 'releases.projects', projects))
          .orderBy('created_at')
          .limit(1),
      )
    : undefined;
  const nextDeploy = nextRelease
    ? await db.get(
        db.qb
          .selectFrom('deploys')
          .select((eb) => eb.fn.min('finished_at').as('at'))
          .where('workspace_id', '=', workspaceId)
          .where('release', '=', nextRelease.version),
      )
    : undefined;
  const firstDeploy = deploys.find((d) => d.finished_at)?.finished_at ?? null;
  const impacts = await deployImpacts(db, workspaceId, projects, deploys, now);
  const newIssueFilter = db.qb
    .selectFrom('issues')
    .where('workspace_id', '=', workspaceId)
    .where('first_release', '=', version);
  const newTotal = await db.get(newIssueFilter.select((eb) => eb.fn.countAll<number>().as('n')));
  const top = await db.all(
    newIssueFilter
      .select(['id', 'short_id', 'title', 'project_slug', 'status', 'count', 'user_count', 'first_seen'])
      .orderBy(sql`coalesce(user_count, 0)`, 'desc')
      .orderBy(sql`coalesce(count, 0)`, 'desc')
      .limit(MAX_ISSUES),
  );
  return {
    version,
    shortVersion: release.short_version,
    projects,
    createdAt: release.created_at,
    releasedAt: release.released_at,
    commitCount: release.commit_count,
    deploys: deploys.map((d) => ({
      id: d.id,
      environment: d.environment,
      startedAt: d.started_at,
      finishedAt: d.finished_at,
      url: d.url,
      effects: impacts.get(d.id) ?? null,
    })),
    nextRelease: nextRelease ? { version: nextRelease.version, createdAt: nextRelease.created_at } : null,
    newIssues: {
      total: Number(newTotal?.n ?? 0),
      top: top.map((i) => ({
        id: i.id,
        shortId: i.short_id,
        title: i.title,
        project: i.project_slug,
        status: i.status,
        count: i.count,
        userCount: i.user_count,
        firstSeen: i.first_seen,
      })),
    },
    regressions: await regressionsAfter(
      db,
      workspaceId,
      version,
      projects,
      firstDeploy,
      (nextDeploy?.at as string | null | undefined) ?? null,
    ),
    resolved: await transitions(db, workspaceId, 'issue.resolved', (q) => q.where('o.release', '=', version)),
    commits: (
      await db.all(
        db.qb
          .selectFrom('commits')
          .select(['id', 'message', 'author_name', 'author_email', 'files'])
          .where('workspace_id', '=', workspaceId)
          .where('release', '=', version)
          .orderBy('created_at', 'desc'),
      )
    ).map((c) => ({
      id: c.id,
      message: c.message,
      author: c.author_name ?? c.author_email,
      files: c.files ? (JSON.parse(c.files) as string[]) : [],
    })),
  };
}

type TransitionQuery = ReturnType<typeof transitionQuery>;

async function transitions(
  db: MemoryDatabase,
  workspaceId: string,
  type: string,
  narrow: (q: TransitionQuery) => TransitionQuery,
): Promise<ReleaseContext['regressions']> {
  return (
    await db.all(
      narrow(transitionQuery(db, workspaceId, type))
        .orderBy('o.occurred_at', 'desc')
        .limit(MAX_ISSUES),
    )
  ).map((r) => ({ occurredAt: r.occurred_at, issueId: r.issue_id, shortId: r.short_id, summary: r.summary }));
}

function transitionQuery(db: MemoryDatabase, workspaceId: string, type: string) {
  return db.qb
    .selectFrom('observations as o')
    .leftJoin('issues as i', (join) =>
      join.onRef('i.workspace_id', '=', 'o.workspace_id').onRef('i.id', '=', 'o.issue_id'),
    )
    .select(['o.occurred_at', 'o.issue_id', 'i.short_id', 'o.summary'])
    .where('o.workspace_id', '=', workspaceId)
    .where('o.type', '=', type);
}

/**
 * Regressions Sentry attributed to this release, and regressions of its projects between its first
 * deploy and the next release's. Two queries, each on its own index, rather than one OR that scans.
 */
async function regressionsAfter(
  db: MemoryDatabase,
  workspaceId: string,
  version: string,
  projects: string[],
  from: string | null,
  until: string | null,
): Promise<ReleaseContext['regressions']> {
  const attributed = await transitions(db, workspaceId, 'issue.regressed', (q) => q.where('o.release', '=', version));
  const inWindow =
    from && projects.length
      ? await transitions(db, workspaceId, 'issue.regressed', (q) => {
          const after = q.where('o.occurred_at', '>=', from).where(observationInProjects(projects));
          return until ? after.where('o.occurred_at', '<', until) : after;
        })
      : [];
  const seen = new Set<string>();
  return [...attributed, ...inWindow]
    .filter((r) => {
      const key = `${r.issueId}|${r.occurredAt}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => b.occurredAt.localeCompare(a.occurredAt))
    .slice(0, MAX_ISSUES);
}

/**
 * Per finished deploy (by id): the issues of `projects` (slugs) seen in its environment whose rate
 * changed after it, judged as the issue context judges one deploy, the biggest changes first. The
 * release's deploys are close in time, so their candidates are read once for all of them: the
 * busiest issues of its projects in the days around them and the issues new since the first one.
 */
async function deployImpacts(
  db: MemoryDatabase,
  workspaceId: string,
  projects: string[],
  deploys: { id: string; environment: string; finished_at: string | null }[],
  now: number,
): Promise<Map<string, DeployImpact>> {
  const impacts = new Map<string, DeployImpact>();
  const judgeable = deploys
    .filter((d) => d.finished_at && Date.parse(d.finished_at) <= now - HOUR_MS)
    .map((d) => ({ ...d, at: Date.parse(d.finished_at!) }));
  if (!projects.length || !judgeable.length) return impacts;
  const first = Math.min(...judgeable.map((d) => d.at));
  const last = Math.max(...judgeable.map((d) => d.at));
  const nearby = (
    await db.all(
      db.qb
        .selectFrom('deploys')
        .select(['environment', 'finished_at'])
        .where('workspace_id', '=', workspaceId)
        .where('finished_at', '>=', new Date(first - DAY_MS).toISOString())
        .where('finished_at', '<=', new Date(last + DAY_MS).toISOString())
        .where(jsonArrayHasAny(db.engine, 'deploys.projects', projects))
        .orderBy('finished_at'),
    )
  ).map((d) => ({ environment: d.environment, at: Date.parse(d.finished_at!) }));
  const windows = judgeable.map((d) => ({ ...d, ...deployWindow(nearby, d, now) }));
  const from = Math.min(...windows.map((w) => w.from));
  const until = Math.max(...windows.map((w) => w.until));
  // A change of fewer events is no change: the busiest issues are the candidates (a covering index on
  // project and day), with the new ones. Bounded reads, whatever the projects' size.
  const busiest = await db.all(
    db.qb
      .selectFrom('issue_event_counts')
      .select((eb) => ['issue_id', eb.fn.sum<number>(eb('source', '+', eb.ref('received'))).as('n')])
      .where('project', 'in', projects)
      .where('workspace_id', '=', workspaceId)
      .where('resolution', '=', 'day')
      .where('start', '>=', bucketStart('day', from))
      .where('start', '<', new Date(until).toISOString())
      .groupBy('issue_id')
      .having((eb) => eb.fn.sum(eb('source', '+', eb.ref('received'))), '>=', MIN_CHANGE)
      .orderBy('n', 'desc')
      .limit(MAX_JUDGED),
  );
  const appeared = await db.all(
    db.qb
      .selectFrom('issues')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('first_seen', '>=', new Date(first).toISOString())
      .where('first_seen', '<', new Date(until).toISOString())
      .where('project_slug', 'in', projects)
      .limit(MAX_JUDGED),
  );
  const ids = [...new Set([...busiest.map((b) => b.issue_id), ...appeared.map((a) => a.id)])];
  if (!ids.length) {
    for (const d of windows) impacts.set(d.id, { worse: [], appeared: [], better: [], gone: [] });
    return impacts;
  }
  const [facets, issues, series] = await Promise.all([
    db.all(
      db.qb
        .selectFrom('issue_facets')
        .select(['issue_id', 'value'])
        .where('workspace_id', '=', workspaceId)
        .where('facet', '=', 'environment')
        .where('issue_id', 'in', ids),
    ),
    db.all(
      db.qb
        .selectFrom('issues')
        .select(['id', 'short_id', 'title', 'first_seen', 'last_seen'])
        .where('workspace_id', '=', workspaceId)
        .where('id', 'in', ids),
    ),
    eventSeries(db, workspaceId, ids, from),
  ]);
  const seenIn = new Set(facets.map((f) => `${f.issue_id}\u0000${f.value}`));
  for (const d of windows) {
    const impact: DeployImpact = { worse: [], appeared: [], better: [], gone: [] };
    const change = new Map<ImpactedIssue, number>();
    for (const issue of issues) {
      if (!seenIn.has(`${issue.id}\u0000${d.environment}`)) continue;
      const judged = judge(series.get(issue.id)!.lifetime(issue.first_seen, issue.last_seen), d.at, d.from, d.until);
      const firstSeen = issue.first_seen ? Date.parse(issue.first_seen) : null;
      const group =
        firstSeen !== null && firstSeen >= d.at && firstSeen < d.until
          ? 'appeared'
          : judged.verdict === 'unchanged'
            ? null
            : judged.verdict;
      if (!group) continue;
      const entry = {
        id: issue.id,
        shortId: issue.short_id,
        title: issue.title,
        perHourBefore: judged.perHourBefore,
        perHourAfter: judged.perHourAfter,
      };
      change.set(entry, Math.abs(judged.perHourAfter - judged.perHourBefore));
      impact[group].push(entry);
    }
    for (const list of Object.values(impact) as ImpactedIssue[][]) {
      list.sort((a, b) => change.get(b)! - change.get(a)! || (a.id < b.id ? -1 : 1));
      list.splice(MAX_IMPACTED);
    }
    impacts.set(d.id, impact);
  }
  return impacts;
}
