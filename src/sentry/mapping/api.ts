import type {
  CommentRecord,
  CommitRecord,
  DeployRecord,
  MemberRecord,
  MemoryRecord,
  ObservationType,
  ProjectRecord,
  ReleaseRecord,
  TeamRecord,
} from '../../memory/records.js';
import { mapEvent } from './event.js';
import { mapApiIssueStats } from './issue-stats.js';
import { issueLabel, issueSeenInEvent, mapIssue } from './issue.js';
import { issueTransition, observation, resolutionData, resolvedInCommit } from './observations.js';
import { arr, count, isoTime, obj, str, text, truncate, type Json } from './values.js';

/** Sentry activity types that are status or assignment transitions, as timeline facts. */
const transitionTypes: Record<string, ObservationType> = {
  set_resolved: 'issue.resolved',
  set_resolved_in_release: 'issue.resolved',
  set_resolved_in_commit: 'issue.resolved',
  set_resolved_in_pull_request: 'issue.resolved',
  set_resolved_by_age: 'issue.resolved',
  set_unresolved: 'issue.unresolved',
  set_regression: 'issue.regressed',
  set_ignored: 'issue.ignored',
  set_archived: 'issue.ignored',
  assigned: 'issue.assigned',
  unassigned: 'issue.unassigned',
};

const transitionVerbs: Partial<Record<ObservationType, string>> = {
  'issue.resolved': 'resolved',
  'issue.unresolved': 'reopened',
  'issue.regressed': 'regressed',
  'issue.ignored': 'archived',
  'issue.unassigned': 'unassigned',
};

const statusActivity = new Set(['first_seen', ...Object.keys(transitionTypes).filter((t) => t.startsWith('set_'))]);
const assignmentActivity = new Set(['assigned', 'unassigned']);

/** When the issue's status (or assignment) last changed, per its activity log. */
function lastChange(activities: Json[], types: Set<string>): string | null {
  let latest: string | null = null;
  for (const a of activities) {
    const at = types.has(String(a.type)) ? isoTime(a.dateCreated) : null;
    if (at && (!latest || at > latest)) latest = at;
  }
  return latest;
}

/**
 * One issue from the REST API with what the sync fetched around it: its recommended event and its
 * activity log. Status and assignment are versioned at the time they last changed per the log (so
 * a webhook about a later change still wins), or at `syncedAt` when the log does not say. Without
 * `activities` the sync did not re-read them because nothing changed, and they are left out.
 */
export function mapApiIssue(
  issue: Json,
  syncedAt: string,
  extras: { event?: Json | null; activities?: Json[] } = {},
): MemoryRecord[] {
  const record = mapIssue(issue, syncedAt);
  if (extras.activities) {
    if (record.status) record.status.at = lastChange(extras.activities, statusActivity) ?? syncedAt;
    if (record.assignee) record.assignee.at = lastChange(extras.activities, assignmentActivity) ?? syncedAt;
  } else {
    delete record.status;
    delete record.assignee;
  }
  const label = issueLabel(record);
  const project = obj(issue.project);
  const records: MemoryRecord[] = [record, ...mapApiIssueStats(record.id, issue.stats, syncedAt)];
  if (record.projectId)
    records.push({
      kind: 'project',
      id: record.projectId,
      slug: record.projectSlug ?? null,
      name: text(project?.name),
      platform: text(project?.platform),
    });
  records.push(
    observation({
      id: `issue.created:${record.id}`,
      type: 'issue.created',
      occurredAt: record.firstSeen ?? syncedAt,
      subject: { type: 'issue', id: record.id },
      issueId: record.id,
      projectSlug: record.projectSlug ?? null,
      release: record.firstRelease ?? null,
      summary: `New issue ${label}: ${record.title ?? 'untitled'}${record.projectSlug ? ` in ${record.projectSlug}` : ''}`,
      data: { level: record.level ?? null },
    }),
  );
  if (extras.event) {
    const event = mapEvent(extras.event, syncedAt);
    records.push({ ...event, issueId: event.issueId ?? record.id }, issueSeenInEvent(record.id, event));
  }
  for (const activity of extras.activities ?? [])
    records.push(...mapActivity(activity, record.id, label, record.projectSlug ?? null));
  return records;
}

/** One issue activity item: a comment (note) or a status/assignment transition. */
export function mapActivity(
  activity: Json,
  issueId: string,
  label: string,
  projectSlug: string | null,
): MemoryRecord[] {
  const type = text(activity.type);
  const at = isoTime(activity.dateCreated);
  const id = str(activity.id);
  if (!type || !at || !id) return [];
  const user = obj(activity.user);
  const data = obj(activity.data) ?? {};
  if (type === 'note') {
    const comment: CommentRecord = {
      kind: 'comment',
      id,
      issueId,
      projectSlug,
      author: user && str(user.id) ? { id: str(user.id)!, name: text(user.name) ?? text(user.email) } : null,
      createdAt: at,
      // The text as it is now, edits included, dated at its posting (the API keeps no edit time):
      // a change, so it outranks the text as first posted at that same time.
      body: { value: { text: text(data.text), deleted: false }, at, rank: 'change' },
    };
    return [
      comment,
      observation({
        id: `comment.created:${id}`,
        type: 'comment.created',
        occurredAt: at,
        subject: { type: 'comment', id },
        issueId,
        projectSlug,
        summary: `${comment.author?.name ?? 'someone'} commented on issue ${issueId}: ${truncate(text(data.text) ?? '', 200)}`,
      }),
    ];
  }
  const observationType = transitionTypes[type];
  if (!observationType) return [];
  const by = text(user?.name) ? ` by ${text(user?.name)}` : '';
  let summary: string;
  let commit: string | null = null;
  if (observationType === 'issue.assigned') {
    const who =
      text(data.assigneeName) ??
      text(data.assigneeEmail) ??
      `${text(data.assigneeType) ?? 'user'} ${str(data.assignee) ?? '?'}`;
    summary = `${label} assigned to ${who}${by}`;
  } else {
    const release = text(data.version);
    commit = type === 'set_resolved_in_commit' ? resolvedInCommit(data.commit) : null;
    summary = `${label} ${transitionVerbs[observationType]}${release ? ` in release ${release}` : ''}${commit ? ` in commit ${commit.slice(0, 12)}` : ''}${by}`;
  }
  return [
    issueTransition(issueId, observationType, at, summary, {
      projectSlug,
      release: text(data.version),
      data: resolutionData(commit),
    }),
  ];
}

export function mapApiProject(project: Json): ProjectRecord {
  return {
    kind: 'project',
    id: str(project.id)!,
    slug: text(project.slug),
    name: text(project.name),
    platform: text(project.platform),
  };
}

export function mapApiTeam(team: Json): TeamRecord {
  return { kind: 'team', id: str(team.id)!, slug: text(team.slug), name: text(team.name) };
}

/** Members are keyed by their user id, which is what assignments and activity refer to. */
export function mapApiMember(member: Json): MemberRecord | null {
  const user = obj(member.user);
  const id = str(user?.id);
  if (!id) return null;
  return {
    kind: 'member',
    id,
    name: text(user?.name) ?? text(member.name),
    email: text(user?.email) ?? text(member.email),
    role: text(member.orgRole) ?? text(member.role),
    teams: arr(member.teams)
      .map(str)
      .filter((t): t is string => t !== null),
  };
}

export function mapApiRelease(release: Json): ReleaseRecord {
  const projects = arr(release.projects)
    .map((p) => text(obj(p)?.slug))
    .filter((p): p is string => p !== null);
  return {
    kind: 'release',
    version: str(release.version)!,
    shortVersion: text(release.shortVersion),
    projects,
    createdAt: isoTime(release.dateCreated),
    releasedAt: isoTime(release.dateReleased),
    firstEvent: isoTime(release.firstEvent),
    lastEvent: isoTime(release.lastEvent),
    commitCount: count(release.commitCount),
    newIssues: count(release.newGroups),
    url: text(release.url),
  };
}

export function mapApiDeploy(deploy: Json, version: string, projects: string[]): MemoryRecord[] {
  const id = str(deploy.id)!;
  const environment = text(deploy.environment) ?? 'unknown';
  const record: DeployRecord = {
    kind: 'deploy',
    id,
    release: version,
    environment,
    name: text(deploy.name),
    url: text(deploy.url),
    startedAt: isoTime(deploy.dateStarted),
    finishedAt: isoTime(deploy.dateFinished),
    projects,
  };
  const at = record.finishedAt ?? record.startedAt;
  if (!at) return [record];
  return [
    record,
    observation({
      id: `deploy.finished:${id}`,
      type: 'deploy.finished',
      occurredAt: at,
      subject: { type: 'deploy', id },
      issueId: null,
      projectSlug: projects[0] ?? null,
      release: version,
      environment,
      summary: `Release ${version} deployed to ${environment}${projects.length ? ` (${projects.join(', ')})` : ''}`,
      data: projects.length > 1 ? { projects } : null,
    }),
  ];
}

/**
 * A release's commit. Sentry lists changed files separately (`commitfiles`), naming each file's
 * commit only by message and repository, so files are matched to commits on those two.
 */
export function mapApiCommit(commit: Json, version: string, files: Json[]): CommitRecord {
  const message = text(commit.message);
  const repository = text(obj(commit.repository)?.name);
  const author = obj(commit.author);
  const changed = files
    .filter((f) => text(f.commitMessage) === message && text(f.repoName) === repository)
    .map((f) => text(f.filename))
    .filter((f): f is string => f !== null);
  return {
    kind: 'commit',
    id: str(commit.id)!,
    release: version,
    message,
    authorName: text(author?.name),
    authorEmail: text(author?.email),
    repository,
    createdAt: isoTime(commit.dateCreated),
    files: files.length ? [...new Set(changed)].sort() : null,
  };
}
