/**
 * What the memory stores, independent of any source's wire format. Mappers (e.g. src/sentry/mapping)
 * turn a source's objects into these records; the store merges them so that the same fact seen twice,
 * or facts seen out of order, converge to one state.
 *
 * Times are ISO-8601 UTC strings (`Date#toISOString`), which sort as text.
 */
export type IsoTime = string;

export interface Actor {
  type: 'user' | 'team';
  id: string;
  name: string | null;
  email: string | null;
}

export interface StackFrame {
  filename: string | null;
  function: string | null;
  module: string | null;
  lineNo: number | null;
  colNo: number | null;
  inApp: boolean;
}

/** A value that is only replaced by a later observation of it (`at`), so replays and reordering converge. */
export interface Versioned<T> {
  value: T;
  at: IsoTime;
  /**
   * Breaks a tie at the same `at`, which sources with whole-second clocks make common: a value as
   * first created yields to a change, and a change to a final value (a deletion). Default `change`.
   */
  rank?: 'initial' | 'change' | 'final';
  /** Breaks a remaining tie: the order the source delivered the facts in (e.g. an inbox sequence); later wins, none ranks first. */
  arrival?: number;
}

export interface IssueRecord {
  kind: 'issue';
  id: string;
  /** When this snapshot of the descriptive fields was true. */
  observedAt: IsoTime;
  shortId?: string | null;
  title?: string | null;
  culprit?: string | null;
  errorType?: string | null;
  message?: string | null;
  level?: string | null;
  platform?: string | null;
  category?: string | null;
  priority?: string | null;
  permalink?: string | null;
  projectId?: string | null;
  projectSlug?: string | null;
  count?: number | null;
  userCount?: number | null;
  firstSeen?: IsoTime | null;
  lastSeen?: IsoTime | null;
  firstRelease?: string | null;
  lastRelease?: string | null;
  topFrames?: StackFrame[] | null;
  status?: Versioned<{ status: string; substatus: string | null }>;
  assignee?: Versioned<Actor | null>;
}

export interface EventRecord {
  kind: 'event';
  id: string;
  issueId: string | null;
  projectId: string | null;
  title: string | null;
  message: string | null;
  culprit: string | null;
  level: string | null;
  platform: string | null;
  release: string | null;
  environment: string | null;
  errorType: string | null;
  errorValue: string | null;
  occurredAt: IsoTime;
  url: string | null;
  tags: Record<string, string>;
  topFrames: StackFrame[];
  /**
   * What the source grouped the event by (hashes, a custom grouping fingerprint), as opaque keys:
   * another issue with one of them is the same problem seen again. Null when the source did not say.
   */
  fingerprint: string[] | null;
}

/**
 * An issue's tag distributions as the source counted them at `observedAt`: per key, the events that
 * carry it (`total`) and its most frequent values. Events stored later than `observedAt` add to it.
 */
export interface IssueTagsRecord {
  kind: 'issue_tags';
  issueId: string;
  observedAt: IsoTime;
  keys: { key: string; name: string | null; total: number; values: { value: string; count: number }[] }[];
}

/**
 * An issue's events per hour or per day as the source counted them at `observedAt` (Sentry's
 * `stats`): every bucket from the first one given on, zeros included or left out. Events stored later
 * than `observedAt` add to it.
 */
export interface IssueStatsRecord {
  kind: 'issue_stats';
  issueId: string;
  observedAt: IsoTime;
  resolution: 'hour' | 'day';
  /** Where the source's buckets begin: the first bucket's start. */
  coveredFrom: IsoTime;
  buckets: { start: IsoTime; count: number }[];
}

export interface CommentRecord {
  kind: 'comment';
  id: string;
  issueId: string;
  projectSlug: string | null;
  author: { id: string; name: string | null } | null;
  createdAt: IsoTime | null;
  /** Text (null once deleted); the latest `at` wins. */
  body: Versioned<{ text: string | null; deleted: boolean }>;
}

export interface AlertRecord {
  kind: 'alert';
  id: string;
  source: 'issue_alert' | 'metric_alert';
  ruleId: string | null;
  ruleName: string | null;
  title: string;
  description: string | null;
  issueId: string | null;
  eventId: string | null;
  projects: string[];
  url: string | null;
  startedAt: IsoTime | null;
  state: Versioned<string>;
}

export type InsightStage = 'root_cause' | 'solution' | 'coding' | 'triage' | 'impact_assessment' | 'pr';

export interface InsightRecord {
  kind: 'insight';
  issueId: string;
  runId: string;
  stage: InsightStage;
  /** `started` < `completed`: a completed stage is never reverted by a late `started`. */
  state: 'started' | 'completed';
  summary: string | null;
  details: unknown;
  /** Source files the insight names as where the problem is (a root cause's code), repository-relative. */
  files?: string[];
  at: IsoTime;
}

export interface ProjectRecord {
  kind: 'project';
  id: string;
  slug: string | null;
  name: string | null;
  platform: string | null;
}

export interface ReleaseRecord {
  kind: 'release';
  version: string;
  shortVersion: string | null;
  projects: string[];
  createdAt: IsoTime | null;
  releasedAt: IsoTime | null;
  firstEvent: IsoTime | null;
  lastEvent: IsoTime | null;
  commitCount: number | null;
  newIssues: number | null;
  url: string | null;
}

export interface DeployRecord {
  kind: 'deploy';
  id: string;
  release: string;
  environment: string;
  name: string | null;
  url: string | null;
  startedAt: IsoTime | null;
  finishedAt: IsoTime | null;
  projects: string[];
}

export interface CommitRecord {
  kind: 'commit';
  id: string;
  release: string;
  message: string | null;
  authorName: string | null;
  authorEmail: string | null;
  repository: string | null;
  createdAt: IsoTime | null;
  files: string[] | null;
}

export interface TeamRecord {
  kind: 'team';
  id: string;
  slug: string | null;
  name: string | null;
}

/** A person of the organization, keyed by their user id (what assignments and activity name). */
export interface MemberRecord {
  kind: 'member';
  id: string;
  name: string | null;
  email: string | null;
  role: string | null;
  teams: string[];
}

export interface EnvironmentRecord {
  kind: 'environment';
  name: string;
}

/** A source connection's lifecycle as the source reports it (e.g. an app installation). */
export interface ConnectionRecord {
  kind: 'connection';
  /** The source's id for the installation. */
  externalId: string;
  orgSlug: string | null;
  appSlug: string | null;
  state: Versioned<'pending' | 'installed' | 'deleted'>;
}

export type ObservationType =
  | 'issue.created'
  | 'issue.resolved'
  | 'issue.unresolved'
  | 'issue.regressed'
  | 'issue.ignored'
  | 'issue.assigned'
  | 'issue.unassigned'
  | 'event.seen'
  | 'alert.triggered'
  | 'alert.critical'
  | 'alert.warning'
  | 'alert.resolved'
  | 'alert.open'
  | 'comment.created'
  | 'comment.updated'
  | 'comment.deleted'
  | 'insight.started'
  | 'insight.completed'
  | 'deploy.finished'
  | 'release.created'
  | 'connection.installed'
  | 'connection.pending'
  | 'connection.deleted';

/** One agent-readable line on the timeline: a lifecycle fact with its time, subject and related entities. */
export interface ObservationRecord {
  kind: 'observation';
  /** Derived from the fact itself so that the same fact from two paths is stored once. */
  id: string;
  type: ObservationType;
  occurredAt: IsoTime;
  subject: {
    type: 'issue' | 'event' | 'alert' | 'comment' | 'insight' | 'release' | 'deploy' | 'connection';
    id: string;
  };
  issueId: string | null;
  projectSlug: string | null;
  release: string | null;
  environment: string | null;
  summary: string;
  data: Record<string, unknown> | null;
}

export type MemoryRecord =
  | IssueRecord
  | EventRecord
  | IssueTagsRecord
  | IssueStatsRecord
  | CommentRecord
  | AlertRecord
  | InsightRecord
  | ProjectRecord
  | ReleaseRecord
  | DeployRecord
  | CommitRecord
  | TeamRecord
  | MemberRecord
  | EnvironmentRecord
  | ConnectionRecord
  | ObservationRecord;

export type MemoryRecordKind = MemoryRecord['kind'];
