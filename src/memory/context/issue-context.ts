import type { Actor, StackFrame } from '../records.js';
import { jsonArrayHasAny, type MemoryDatabase } from '../database.js';
import { issueAsOf, type AsOf } from './as-of.js';
import { deployEffects, issueSeries, trendOf, type DeployEffect, type IssueTrend } from './event-trend.js';
import { resolveIssue } from './issue-ref.js';
import { affectedValues, type AffectedValue } from './issue-tags.js';
import { relatedIssues, type RelatedIssue } from './related-issues.js';
import { samePath } from './paths.js';

const HOUR = 3_600_000;
/** A deploy is a suspect when it finished at most this long before the issue appeared or regressed. */
export const SUSPECT_DEPLOY_WINDOW_MS = 48 * HOUR;
const MAX_FRAMES = 5;

export interface IssueContext {
  id: string;
  shortId: string | null;
  title: string | null;
  type: string | null;
  errorType: string | null;
  message: string | null;
  culprit: string | null;
  level: string | null;
  platform: string | null;
  priority: string | null;
  project: string | null;
  projectId: string | null;
  permalink: string | null;
  status: string | null;
  substatus: string | null;
  count: number | null;
  userCount: number | null;
  /** Where its event rate is heading, from the hourly and daily counts. */
  trend: IssueTrend;
  firstSeen: string | null;
  lastSeen: string | null;
  firstRelease: string | null;
  lastRelease: string | null;
  assignee: (Actor & { teams: string[] }) | null;
  /** Innermost in-app frames (never the full trace). */
  topFrames: { function: string | null; filename: string | null; lineNo: number | null }[];
  latestEvent: { id: string; occurredAt: string; release: string | null; environment: string | null } | null;
  environments: string[];
  /** Who is affected: tag values most of its events share, or far above its project's usual mix. */
  affected: AffectedValue[];
  /** Seen before: the issues most like it (see related-issues.ts), with how resolved ones were resolved. */
  seenBefore: RelatedIssue[];
  statusHistory: { type: string; occurredAt: string; summary: string; release: string | null }[];
  comments: { id: string; author: string | null; createdAt: string | null; text: string }[];
  alerts: { id: string; source: string; title: string; state: string; startedAt: string | null }[];
  seer: { stage: string; state: string; summary: string | null; at: string; details: unknown }[];
  suspectDeploys: {
    id: string;
    release: string;
    environment: string;
    finishedAt: string;
    hoursBefore: number;
    before: 'first seen' | 'regression';
  }[];
  suspectCommits: {
    id: string;
    release: string;
    message: string | null;
    author: string | null;
    files: string[];
    reason: 'first release' | 'regression release';
  }[];
  /** Its rate before and after each recent deploy of its project, newest first. */
  deploys: DeployEffect[];
  /** Set when the context is of a past time. */
  asOf: AsOf | null;
}

/** What is stored of an issue: its context without the parts that depend on when it is asked and on other tables. */
export type IssueFacts = Omit<IssueContext, 'trend' | 'deploys' | 'asOf' | 'affected' | 'seenBefore'>;

/** How many related issues the context names under "seen before". */
export const SEEN_BEFORE = 3;

/**
 * Everything the memory knows about one issue, most important first. `now` drives the trend; with
 * `asOf`, the issue as it was then (see as-of.ts), its trend at that time.
 */
export async function getIssueContext(
  db: MemoryDatabase,
  workspaceId: string,
  ref: string,
  now: number,
  options: { asOf?: string } = {},
): Promise<IssueContext> {
  const facts = await getIssueFacts(db, workspaceId, ref);
  const [affected, seenBefore] = await Promise.all([
    affectedValues(db, workspaceId, facts.id, facts.project),
    relatedIssues(db, workspaceId, facts.id, SEEN_BEFORE),
  ]);
  const then =
    options.asOf === undefined
      ? { ...facts, asOf: null }
      : await issueAsOf(db, workspaceId, facts, options.asOf, (actor) => assigneeOf(db, workspaceId, actor));
  const at = options.asOf === undefined ? now : Math.min(now, Date.parse(options.asOf));
  const series = (await issueSeries(db, workspaceId, facts.id, at)).lifetime(then.firstSeen, then.lastSeen);
  const projectKeys = [facts.project, facts.projectId].filter((p): p is string => p !== null);
  return {
    ...then,
    trend: trendOf(series, then, at),
    deploys: await deployEffects(
      db,
      workspaceId,
      { projectKeys, environments: facts.environments, firstSeen: facts.firstSeen },
      series,
      at,
    ),
    affected,
    seenBefore,
  };
}

/** Every observation of an issue, oldest first: its whole history, where the context keeps only status changes. */
export async function getIssueTimeline(
  db: MemoryDatabase,
  workspaceId: string,
  id: string,
): Promise<{ kind: string; occurredAt: string; summary: string }[]> {
  const rows = await db.all(
    db.qb
      .selectFrom('observations')
      .select(['type', 'occurred_at', 'summary'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', id)
      .orderBy('occurred_at')
      .orderBy('id'),
  );
  return rows.map((o) => ({ kind: o.type, occurredAt: o.occurred_at, summary: o.summary }));
}

/** The issue `ref` names (id, short id or URL), as stored; NotInMemoryError when it is not. */
export async function getIssueFacts(db: MemoryDatabase, workspaceId: string, ref: string): Promise<IssueFacts> {
  const id = await resolveIssue(db, workspaceId, ref);
  const issue = (await db.get(
    db.qb.selectFrom('issues').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id),
  ))!;
  const newest = await newestEvent(db, workspaceId, id);
  const frames = inAppFrames(issue.top_frames, newest?.topFrames ?? null);
  const statusHistory = await db.all(
    db.qb
      .selectFrom('observations')
      .select(['type', 'occurred_at', 'summary', 'release'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', id)
      .where('type', 'like', 'issue.%')
      .orderBy('occurred_at')
      .orderBy('id'),
  );
  const environments = (
    await db.all(
      db.qb
        .selectFrom('issue_facets')
        .select('value')
        .where('workspace_id', '=', workspaceId)
        .where('facet', '=', 'environment')
        .where('issue_id', '=', id),
    )
  )
    .map((r) => r.value)
    .sort();
  const regressions = statusHistory.filter((h) => h.type === 'issue.regressed');
  const projectKeys = [issue.project_slug, issue.project_id].filter((p): p is string => p !== null);

  return {
    id: issue.id,
    shortId: issue.short_id,
    title: issue.title,
    type: issue.category,
    errorType: issue.error_type,
    message: issue.message,
    culprit: issue.culprit,
    level: issue.level,
    platform: issue.platform,
    priority: issue.priority,
    project: issue.project_slug,
    projectId: issue.project_id,
    permalink: issue.permalink,
    status: issue.status,
    substatus: issue.substatus,
    count: issue.count,
    userCount: issue.user_count,
    firstSeen: issue.first_seen,
    lastSeen: issue.last_seen,
    firstRelease: issue.first_release,
    lastRelease: issue.last_release,
    assignee: await assigneeOf(db, workspaceId, actorOf(issue)),
    topFrames: frames.map((f) => ({ function: f.function, filename: f.filename, lineNo: f.lineNo })),
    latestEvent: newest?.event ?? null,
    environments,
    statusHistory: statusHistory.map((h) => ({
      type: h.type,
      occurredAt: h.occurred_at,
      summary: h.summary,
      release: h.release,
    })),
    comments: (
      await db.all(
        db.qb
          .selectFrom('comments')
          .select(['id', 'author_name', 'created_at', 'text'])
          .where('workspace_id', '=', workspaceId)
          .where('issue_id', '=', id)
          .where('deleted', '=', 0)
          .orderBy('created_at', 'desc')
          .orderBy('id'),
      )
    ).map((c) => ({ id: c.id, author: c.author_name, createdAt: c.created_at, text: c.text ?? '' })),
    alerts: (
      await db.all(
        db.qb
          .selectFrom('alerts')
          .select(['id', 'source', 'title', 'state', 'started_at'])
          .where('workspace_id', '=', workspaceId)
          .where('issue_id', '=', id)
          .orderBy('started_at', 'desc'),
      )
    ).map((a) => ({ id: a.id, source: a.source, title: a.title, state: a.state, startedAt: a.started_at })),
    seer: (
      await db.all(
        db.qb
          .selectFrom('insights')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('issue_id', '=', id)
          .orderBy('at', 'desc'),
      )
    ).map((s) => ({
      stage: s.stage,
      state: s.state,
      summary: s.summary,
      at: s.at,
      details: s.details ? (JSON.parse(s.details) as unknown) : null,
    })),
    suspectDeploys: await suspectDeploys(
      db,
      workspaceId,
      projectKeys,
      environments,
      issue.first_seen,
      regressions.map((r) => r.occurred_at),
    ),
    suspectCommits: await suspectCommits(
      db,
      workspaceId,
      frames,
      issue.first_release,
      regressions.map((r) => r.release).filter((r): r is string => r !== null),
    ),
  };
}

/** The issue's newest event (at or before `until`, when given) and its frames as stored. */
export async function newestEvent(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  until?: string,
): Promise<{ event: NonNullable<IssueContext['latestEvent']>; topFrames: string } | null> {
  let query = db.qb
    .selectFrom('events')
    .select(['id', 'occurred_at', 'release', 'environment', 'top_frames'])
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', issueId);
  if (until !== undefined) query = query.where('occurred_at', '<=', until);
  const row = await db.get(query.orderBy('occurred_at', 'desc').limit(1));
  if (!row) return null;
  return {
    event: { id: row.id, occurredAt: row.occurred_at, release: row.release, environment: row.environment },
    topFrames: row.top_frames,
  };
}

function inAppFrames(issueFrames: string | null, eventFrames: string | null): StackFrame[] {
  const parse = (json: string | null) => (json ? (JSON.parse(json) as StackFrame[]) : []);
  const frames = [...parse(issueFrames), ...parse(eventFrames)];
  const inApp = frames.filter((f) => f.inApp);
  const seen = new Set<string>();
  return (inApp.length ? inApp : frames)
    .filter((f) => {
      const key = `${f.filename}|${f.function}|${f.lineNo}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, MAX_FRAMES);
}

function actorOf(issue: {
  assignee_type: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  assignee_email: string | null;
}): Actor | null {
  if (!issue.assignee_id) return null;
  return {
    type: issue.assignee_type === 'team' ? 'team' : 'user',
    id: issue.assignee_id,
    name: issue.assignee_name,
    email: issue.assignee_email,
  };
}

/** The assignee with their teams, and the name or e-mail the assignment left out from the member or team. */
async function assigneeOf(
  db: MemoryDatabase,
  workspaceId: string,
  actor: Actor | null,
): Promise<IssueContext['assignee']> {
  if (!actor) return null;
  if (actor.type === 'team') {
    const team = await db.get(
      db.qb
        .selectFrom('teams')
        .select(['slug', 'name'])
        .where('workspace_id', '=', workspaceId)
        .where('id', '=', actor.id),
    );
    return {
      type: 'team',
      id: actor.id,
      name: actor.name ?? team?.slug ?? null,
      email: null,
      teams: team?.slug ? [team.slug] : [],
    };
  }
  const member = await db.get(
    db.qb
      .selectFrom('members')
      .select(['name', 'email', 'teams'])
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', actor.id),
  );
  return {
    type: 'user',
    id: actor.id,
    name: actor.name ?? member?.name ?? null,
    email: actor.email ?? member?.email ?? null,
    teams: member ? (JSON.parse(member.teams) as string[]) : [],
  };
}

/** Deploys of the issue's project (in an environment it was seen in, when known) shortly before it first appeared or regressed. */
async function suspectDeploys(
  db: MemoryDatabase,
  workspaceId: string,
  projects: string[],
  environments: string[],
  firstSeen: string | null,
  regressedAt: string[],
): Promise<IssueContext['suspectDeploys']> {
  if (!projects.length) return [];
  const moments = [
    ...(firstSeen ? [{ at: firstSeen, before: 'first seen' as const }] : []),
    ...regressedAt.map((at) => ({ at, before: 'regression' as const })),
  ];
  const suspects: IssueContext['suspectDeploys'] = [];
  for (const moment of moments) {
    const end = Date.parse(moment.at);
    let q = db.qb
      .selectFrom('deploys')
      .select(['id', 'release', 'environment', 'finished_at'])
      .where('workspace_id', '=', workspaceId)
      .where('finished_at', '>=', new Date(end - SUSPECT_DEPLOY_WINDOW_MS).toISOString())
      .where('finished_at', '<=', moment.at)
      .where(jsonArrayHasAny(db.engine, 'deploys.projects', projects));
    if (environments.length) q = q.where('environment', 'in', environments);
    for (const d of await db.all(q.orderBy('finished_at', 'desc'))) {
      if (suspects.some((s) => s.id === d.id)) continue;
      suspects.push({
        id: d.id,
        release: d.release,
        environment: d.environment,
        finishedAt: d.finished_at!,
        hoursBefore: Math.round(((end - Date.parse(d.finished_at!)) / HOUR) * 10) / 10,
        before: moment.before,
      });
    }
  }
  return suspects;
}

/** Commits of the release it appeared in (or regressed in) that changed a file its in-app frames ran. */
async function suspectCommits(
  db: MemoryDatabase,
  workspaceId: string,
  frames: StackFrame[],
  firstRelease: string | null,
  regressionReleases: string[],
): Promise<IssueContext['suspectCommits']> {
  const framePaths = frames.map((f) => f.filename).filter((f): f is string => f !== null);
  if (!framePaths.length) return [];
  const releases = [
    ...(firstRelease ? [{ version: firstRelease, reason: 'first release' as const }] : []),
    ...[...new Set(regressionReleases)]
      .filter((r) => r !== firstRelease)
      .map((version) => ({ version, reason: 'regression release' as const })),
  ];
  const suspects: IssueContext['suspectCommits'] = [];
  for (const release of releases) {
    const commits = await db.all(
      db.qb
        .selectFrom('commits')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('release', '=', release.version)
        .orderBy('created_at', 'desc'),
    );
    for (const commit of commits) {
      const files = (commit.files ? (JSON.parse(commit.files) as string[]) : []).filter((file) =>
        framePaths.some((frame) => samePath(frame, file)),
      );
      if (files.length)
        suspects.push({
          id: commit.id,
          release: release.version,
          message: commit.message,
          author: commit.author_name ?? commit.author_email,
          files,
          reason: release.reason,
        });
    }
  }
  return suspects;
}
