import type { Selectable } from 'kysely';
import type {
  AlertRecord,
  CommentRecord,
  CommitRecord,
  ConnectionRecord,
  DeployRecord,
  EventRecord,
  InsightRecord,
  IssueRecord,
  MemberRecord,
  MemoryRecord,
  ObservationRecord,
  ProjectRecord,
  ReleaseRecord,
  TeamRecord,
} from './records.js';
import type { Database, IssueTable } from './schema.js';
import { isNewer, maxNumber, maxTime, minTime, versionOf } from './versions.js';

/**
 * The merge rules, as pure functions of a record and the row it merges into: what the row becomes.
 * Every rule is idempotent and order-tolerant: counters take the maximum, first-seen times the
 * minimum, and versioned values (status, assignee, comment text, alert state) only move forward, so
 * any replay or reordering of the same facts converges. writer.ts applies them one record at a time,
 * batch-writer.ts to a whole batch of deliveries folded in memory.
 */

export type Row<T extends keyof Database> = Selectable<Database[T]>;

/**
 * JSON text for a JSON column. U+0000 becomes U+FFFD: PostgreSQL's jsonb refuses it, and both engines
 * must store the same facts.
 */
export function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json;
}

/**
 * The keys a record's merge must hold alone while it reads and writes (an advisory lock on
 * PostgreSQL, see MemoryDatabase.lock): merges that read before they write, and counts that add up.
 */
export const mergeKeys = {
  issue: (ws: string, id: string) => `issue:${ws}:${id}`,
  comment: (ws: string, id: string) => `comment:${ws}:${id}`,
  alert: (ws: string, id: string) => `alert:${ws}:${id}`,
  insight: (ws: string, r: Pick<InsightRecord, 'issueId' | 'runId' | 'stage'>) =>
    `insight:${ws}:${r.issueId}:${r.runId}:${r.stage}`,
  release: (ws: string, version: string) => `release:${ws}:${version}`,
  commit: (ws: string, release: string, id: string) => `commit:${ws}:${release}:${id}`,
  connection: (ws: string, source: string, externalId: string) => `connection:${ws}:${source}:${externalId}`,
  issueTags: (ws: string, issueId: string) => `issue-tags:${ws}:${issueId}`,
  eventCounts: (ws: string, issueId: string) => `event-counts:${ws}:${issueId}`,
};

/** Every key `record`'s merge locks (see mergeKeys). */
export function keysOf(ws: string, source: string, record: MemoryRecord): string[] {
  switch (record.kind) {
    case 'issue':
      return [mergeKeys.issue(ws, record.id)];
    case 'event':
      if (record.issueId === null) return [];
      return [
        ...(Object.keys(record.tags).length ? [mergeKeys.issueTags(ws, record.issueId)] : []),
        mergeKeys.eventCounts(ws, record.issueId),
      ];
    case 'issue_tags':
      return [mergeKeys.issueTags(ws, record.issueId)];
    case 'issue_stats':
      return [mergeKeys.eventCounts(ws, record.issueId)];
    case 'comment':
      return [mergeKeys.comment(ws, record.id)];
    case 'alert':
      return [mergeKeys.alert(ws, record.id)];
    case 'insight':
      return [mergeKeys.insight(ws, record)];
    case 'release':
      return [mergeKeys.release(ws, record.version)];
    case 'commit':
      return [mergeKeys.commit(ws, record.release, record.id)];
    case 'connection':
      return [mergeKeys.connection(ws, source, record.externalId)];
    default:
      return [];
  }
}

/**
 * A later snapshot's known values win; an older one only fills gaps. Snapshots are ordered by when
 * they were observed, then by the last event they saw (gap-filling glimpses through events all share
 * one observation time). At a full tie each field keeps the greater value, so the memory converges
 * whatever order the two arrive in.
 */
function pick<V extends string>(
  incoming: V | null | undefined,
  current: V | null | undefined,
  order: number,
): V | null {
  if (incoming == null) return current ?? null;
  if (current == null || order > 0) return incoming;
  if (order < 0) return current;
  return incoming > current ? incoming : current;
}

function compareSnapshots(r: IssueRecord, current: IssueTable | undefined): number {
  if (!current) return 1;
  return compareText(r.observedAt, current.snapshot_at) || compareText(r.lastSeen ?? '', current.last_seen ?? '');
}

export function compareText(a: string, b: string): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

/**
 * The issue row after `r`. `newestFrames` is the top_frames of the issue's newest stored event that
 * has any (asked only when `r` brings frames: only a glimpse through an event does, and that event is
 * stored by then), so the issue's frames are a function of its set of events, not of delivery order.
 */
export function mergeIssue(
  ws: string,
  r: IssueRecord,
  current: IssueTable | undefined,
  newestFrames: string | null | undefined,
): IssueTable {
  const order = compareSnapshots(r, current);
  const row: IssueTable = {
    workspace_id: ws,
    id: r.id,
    short_id: pick(r.shortId, current?.short_id, order),
    title: pick(r.title, current?.title, order),
    culprit: pick(r.culprit, current?.culprit, order),
    error_type: pick(r.errorType, current?.error_type, order),
    message: pick(r.message, current?.message, order),
    level: pick(r.level, current?.level, order),
    platform: pick(r.platform, current?.platform, order),
    category: pick(r.category, current?.category, order),
    priority: pick(r.priority, current?.priority, order),
    permalink: pick(r.permalink, current?.permalink, order),
    project_id: pick(r.projectId, current?.project_id, order),
    project_slug: pick(r.projectSlug, current?.project_slug, order),
    count: maxNumber(r.count, current?.count),
    user_count: maxNumber(r.userCount, current?.user_count),
    first_seen: minTime(r.firstSeen, current?.first_seen),
    last_seen: maxTime(r.lastSeen, current?.last_seen),
    first_release: pick(r.firstRelease, current?.first_release, order),
    last_release: pick(r.lastRelease, current?.last_release, order),
    top_frames: r.topFrames?.length ? (newestFrames ?? toJson(r.topFrames)) : (current?.top_frames ?? null),
    snapshot_at: maxTime(r.observedAt, current?.snapshot_at) ?? r.observedAt,
    status: current?.status ?? null,
    substatus: current?.substatus ?? null,
    status_version: current?.status_version ?? null,
    assignee_type: current?.assignee_type ?? null,
    assignee_id: current?.assignee_id ?? null,
    assignee_name: current?.assignee_name ?? null,
    assignee_email: current?.assignee_email ?? null,
    assignee_version: current?.assignee_version ?? null,
  };
  if (r.status) {
    const version = versionOf(r.status);
    if (isNewer(version, row.status_version)) {
      row.status = r.status.value.status;
      row.substatus = r.status.value.substatus;
      row.status_version = version;
    }
  }
  if (r.assignee) {
    const version = versionOf(r.assignee);
    if (isNewer(version, row.assignee_version)) {
      const to = r.assignee.value;
      row.assignee_type = to?.type ?? null;
      row.assignee_id = to?.id ?? null;
      row.assignee_name = to?.name ?? null;
      row.assignee_email = to?.email ?? null;
      row.assignee_version = version;
    }
  }
  return row;
}

export function eventRow(ws: string, r: EventRecord): Row<'events'> {
  return {
    workspace_id: ws,
    id: r.id,
    issue_id: r.issueId,
    project_id: r.projectId,
    title: r.title,
    message: r.message,
    culprit: r.culprit,
    level: r.level,
    platform: r.platform,
    release: r.release,
    environment: r.environment,
    error_type: r.errorType,
    error_value: r.errorValue,
    occurred_at: r.occurredAt,
    url: r.url,
    tags: toJson(r.tags),
    top_frames: toJson(r.topFrames),
  };
}

/** Whether event `a` is newer than `b` for an issue's frames: by time, then by id. */
export function isNewerEvent(
  a: Pick<EventRecord, 'occurredAt' | 'id'>,
  b: { occurredAt: string; id: string },
): boolean {
  return compareText(a.occurredAt, b.occurredAt) > 0 || (a.occurredAt === b.occurredAt && a.id > b.id);
}

export function mergeComment(ws: string, r: CommentRecord, current: Row<'comments'> | undefined): Row<'comments'> {
  const version = versionOf(r.body);
  const newer = isNewer(version, current?.version);
  return {
    workspace_id: ws,
    id: r.id,
    issue_id: r.issueId,
    project_slug: r.projectSlug ?? current?.project_slug ?? null,
    author_id: r.author?.id ?? current?.author_id ?? null,
    author_name: r.author?.name ?? current?.author_name ?? null,
    created_at: minTime(r.createdAt, current?.created_at),
    text: newer ? r.body.value.text : (current?.text ?? null),
    deleted: newer ? Number(r.body.value.deleted) : (current?.deleted ?? 0),
    version: newer ? version : current!.version,
  };
}

export function mergeAlert(ws: string, r: AlertRecord, current: Row<'alerts'> | undefined): Row<'alerts'> {
  const version = versionOf(r.state);
  const newer = isNewer(version, current?.state_version);
  const order = newer ? 1 : -1;
  return {
    workspace_id: ws,
    id: r.id,
    source: r.source,
    rule_id: pick(r.ruleId, current?.rule_id, order),
    rule_name: pick(r.ruleName, current?.rule_name, order),
    title: pick(r.title, current?.title, order) ?? r.title,
    description: pick(r.description, current?.description, order),
    issue_id: pick(r.issueId, current?.issue_id, order),
    event_id: pick(r.eventId, current?.event_id, order),
    projects: newer || !current ? toJson(r.projects) : current.projects,
    url: pick(r.url, current?.url, order),
    started_at: minTime(r.startedAt, current?.started_at),
    state: newer ? r.state.value : current!.state,
    state_version: newer ? version : current!.state_version,
  };
}

const stageStateRank = { started: 0, completed: 1 } as const;

/** The insight row after `r`, or undefined when `r` is older than it (a completed stage is never reverted by a late `started`). */
export function mergeInsight(
  ws: string,
  r: InsightRecord,
  current: Row<'insights'> | undefined,
): Row<'insights'> | undefined {
  if (current) {
    const currentRank = stageStateRank[current.state as keyof typeof stageStateRank] ?? 0;
    const rank = stageStateRank[r.state];
    if (rank < currentRank || (rank === currentRank && r.at <= current.at)) return undefined;
  }
  return {
    workspace_id: ws,
    issue_id: r.issueId,
    run_id: r.runId,
    stage: r.stage,
    state: r.state,
    summary: r.summary ?? current?.summary ?? null,
    details: r.details == null ? (current?.details ?? null) : toJson(r.details),
    at: r.at,
  };
}

/**
 * A project row as a record gives it; the merge with what is stored (known values win, an empty
 * platform does not) is the upsert's (writer.ts upsertProjects), so that it needs no lock.
 */
export function projectRow(ws: string, r: ProjectRecord): Row<'projects'> {
  return { workspace_id: ws, id: r.id, slug: r.slug, name: r.name, platform: r.platform || null };
}

export function mergeRelease(ws: string, r: ReleaseRecord, current: Row<'releases'> | undefined): Row<'releases'> {
  const projects = new Set<string>([...(current ? (JSON.parse(current.projects) as string[]) : []), ...r.projects]);
  return {
    workspace_id: ws,
    version: r.version,
    short_version: r.shortVersion ?? current?.short_version ?? null,
    projects: toJson([...projects].sort()),
    created_at: minTime(r.createdAt, current?.created_at),
    released_at: r.releasedAt ?? current?.released_at ?? null,
    first_event: minTime(r.firstEvent, current?.first_event),
    last_event: maxTime(r.lastEvent, current?.last_event),
    commit_count: maxNumber(r.commitCount, current?.commit_count),
    new_issues: maxNumber(r.newIssues, current?.new_issues),
    url: r.url ?? current?.url ?? null,
  };
}

export function deployRow(ws: string, r: DeployRecord): Row<'deploys'> {
  return {
    workspace_id: ws,
    id: r.id,
    release: r.release,
    environment: r.environment,
    name: r.name,
    url: r.url,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    projects: toJson([...r.projects].sort()),
  };
}

export function mergeCommit(ws: string, r: CommitRecord, current: Row<'commits'> | undefined): Row<'commits'> {
  return {
    workspace_id: ws,
    id: r.id,
    release: r.release,
    message: r.message ?? current?.message ?? null,
    author_name: r.authorName ?? current?.author_name ?? null,
    author_email: r.authorEmail ?? current?.author_email ?? null,
    repository: r.repository ?? current?.repository ?? null,
    created_at: r.createdAt ?? current?.created_at ?? null,
    files: r.files ? toJson(r.files) : (current?.files ?? null),
  };
}

export function teamRow(ws: string, r: TeamRecord): Row<'teams'> {
  return { workspace_id: ws, id: r.id, slug: r.slug, name: r.name };
}

export function memberRow(ws: string, r: MemberRecord): Row<'members'> {
  return {
    workspace_id: ws,
    id: r.id,
    name: r.name,
    email: r.email,
    role: r.role,
    teams: toJson([...r.teams].sort()),
  };
}

/** The connection row after `r`, or undefined when `r` is not newer than it. */
export function mergeConnection(
  ws: string,
  source: string,
  r: ConnectionRecord,
  current: Row<'connections'> | undefined,
): Row<'connections'> | undefined {
  const version = versionOf(r.state);
  if (current && !isNewer(version, current.state_version)) return undefined;
  return {
    workspace_id: ws,
    id: current?.id ?? `${source}:${r.externalId}`,
    source,
    external_id: r.externalId,
    org_slug: r.orgSlug ?? current?.org_slug ?? null,
    app_slug: r.appSlug ?? current?.app_slug ?? null,
    base_url: current?.base_url ?? null,
    auth_kind: current?.auth_kind ?? null,
    credentials: current?.credentials ?? null,
    state: r.state.value,
    state_version: version,
    updated_at: r.state.at,
  };
}

export function observationRow(ws: string, r: ObservationRecord): Row<'observations'> {
  return {
    workspace_id: ws,
    id: r.id,
    type: r.type,
    occurred_at: r.occurredAt,
    subject_type: r.subject.type,
    subject_id: r.subject.id,
    issue_id: r.issueId,
    project_slug: r.projectSlug,
    release: r.release,
    environment: r.environment,
    summary: r.summary,
    data: r.data ? toJson(r.data) : null,
  };
}
