import type { Actor, EventRecord, IssueRecord } from '../../memory/records.js';
import { count, isoTime, obj, str, text, type Json } from './values.js';

/** `assignedTo` is an object `{type, id, name, email}` or, in some API responses, a string like `team:12`. */
export function mapAssignee(value: unknown): Actor | null {
  const o = obj(value);
  if (o) {
    const id = str(o.id);
    if (!id) return null;
    return { type: o.type === 'team' ? 'team' : 'user', id, name: text(o.name), email: text(o.email) };
  }
  const s = str(value);
  if (!s) return null;
  const [prefix, rest] = s.includes(':') ? s.split(':', 2) : ['user', s];
  return { type: prefix === 'team' ? 'team' : 'user', id: rest, name: null, email: null };
}

function releaseVersion(value: unknown): string | null {
  return text(value) ?? text(obj(value)?.version);
}

/**
 * One Sentry issue (webhook `data.issue` or API issue) as a memory record. `at` is when this
 * snapshot was true: it versions status and assignment, which Sentry does not timestamp.
 */
export function mapIssue(issue: Json, at: string): IssueRecord {
  const metadata = obj(issue.metadata) ?? {};
  const project = obj(issue.project) ?? {};
  const status = text(issue.status);
  const record: IssueRecord = {
    kind: 'issue',
    id: str(issue.id)!,
    observedAt: at,
    shortId: text(issue.shortId),
    title: text(issue.title) ?? text(metadata.title),
    culprit: text(issue.culprit),
    errorType: text(metadata.type),
    message: text(metadata.value) ?? text(issue.message),
    level: text(issue.level),
    platform: text(issue.platform),
    category: text(issue.issueCategory) ?? text(issue.type),
    priority: text(issue.priority),
    permalink: text(issue.permalink),
    projectId: str(project.id),
    projectSlug: text(project.slug),
    count: count(issue.count),
    userCount: count(issue.userCount),
    firstSeen: isoTime(issue.firstSeen),
    lastSeen: isoTime(issue.lastSeen),
    firstRelease: releaseVersion(issue.firstRelease),
    lastRelease: releaseVersion(issue.lastRelease),
  };
  if (status) record.status = { value: { status, substatus: text(issue.substatus) }, at };
  if ('assignedTo' in issue) record.assignee = { value: mapAssignee(issue.assignedTo), at };
  return record;
}

export function issueLabel(issue: { shortId?: string | null; id: string }): string {
  return issue.shortId ?? `issue ${issue.id}`;
}

/**
 * Gap-filling snapshots are dated at the epoch so they never override what a real issue snapshot
 * said, only fill what is still unknown.
 */
const GAP_FILL = new Date(0).toISOString();

/** An issue glimpsed through one of its events: fills gaps, widens first/last seen, brings top frames. */
export function issueSeenInEvent(issueId: string, event: EventRecord): IssueRecord {
  return {
    kind: 'issue',
    id: issueId,
    observedAt: GAP_FILL,
    title: event.title,
    culprit: event.culprit,
    errorType: event.errorType,
    message: event.errorValue,
    level: event.level,
    platform: event.platform,
    projectId: event.projectId,
    lastSeen: event.occurredAt,
    firstSeen: event.occurredAt,
    topFrames: event.topFrames,
    lastRelease: event.release,
  };
}
