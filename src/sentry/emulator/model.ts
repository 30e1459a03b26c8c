import type { TrendScenarioIssue } from './trends.js';
import type { Runtime } from './catalog.js';

/**
 * The emulator's in-memory organization. Field names follow the REST API (camelCase, ISO
 * timestamps) so tests can compare what a sync stored against these records directly; the
 * serializers in `serialize.ts` add the boilerplate fields the real API returns around them.
 */

export interface OrganizationRecord {
  id: string;
  slug: string;
  name: string;
  dateCreated: string;
}

export interface UserRecord {
  id: string;
  name: string;
  email: string;
  username: string;
  dateJoined: string;
}

export interface TeamRecord {
  id: string;
  slug: string;
  name: string;
  dateCreated: string;
  memberUserIds: string[];
}

export interface MemberRecord {
  /** Organization-member id; different from the user id, as in Sentry. */
  id: string;
  userId: string;
  orgRole: 'owner' | 'manager' | 'member';
  teamSlugs: string[];
  dateCreated: string;
}

export interface ProjectRecord {
  id: string;
  slug: string;
  name: string;
  platform: string;
  runtime: Runtime;
  teamId: string;
  dateCreated: string;
  /** Repository the project's releases commit to, e.g. `acme/checkout-api`. */
  repository: string;
  /** Source paths (repository-relative) used by commits and by in-app stack frames. */
  sourceFiles: string[];
  /** Counter behind short ids like `CHECKOUT-API-7`. */
  lastShortIdNumber: number;
}

export interface EnvironmentRecord {
  id: string;
  name: string;
}

export interface FileChangeRecord {
  id: string;
  filename: string;
  /** A = added, M = modified, D = deleted (Sentry's CommitFileChange types). */
  type: 'A' | 'M' | 'D';
}

export interface CommitRecord {
  /** 40-hex sha. */
  id: string;
  message: string;
  dateCreated: string;
  authorUserId: string;
  repository: string;
  files: FileChangeRecord[];
}

export interface DeployRecord {
  id: string;
  environment: string;
  name: string;
  url: string | null;
  dateStarted: string;
  dateFinished: string;
}

export interface ReleaseRecord {
  id: number;
  version: string;
  projectId: string;
  ref: string | null;
  dateCreated: string;
  dateReleased: string | null;
  commits: CommitRecord[];
  deploys: DeployRecord[];
}

export interface FrameRecord {
  filename: string;
  absPath: string;
  module: string | null;
  function: string | null;
  lineNo: number;
  colNo: number | null;
  inApp: boolean;
  contextLine: string | null;
}

export interface EventRecord {
  /** 32-hex event id. */
  eventId: string;
  issueId: string;
  projectId: string;
  dateCreated: string;
  release: string | null;
  environment: string;
  level: IssueLevel;
  exception: { type: string; value: string; handled: boolean; mechanism: string; frames: FrameRecord[] };
  tags: { key: string; value: string }[];
  user: { id: string | null; email: string | null; ipAddress: string };
  requestUrl: string | null;
}

export type IssueLevel = 'fatal' | 'error' | 'warning' | 'info';
export type IssueStatus = 'unresolved' | 'resolved' | 'ignored';
export type IssueSubstatus =
  | 'ongoing'
  | 'new'
  | 'regressed'
  | 'escalating'
  | 'archived_until_escalating'
  | 'archived_forever'
  | 'archived_until_condition_met'
  | null;

export interface Assignee {
  type: 'user' | 'team';
  id: string;
}

export interface ActivityRecord {
  id: string;
  issueId: string;
  /** Sentry activity types: note, set_resolved, set_unresolved, set_ignored, set_regression, assigned, unassigned, first_seen. */
  type: string;
  userId: string | null;
  data: Record<string, unknown>;
  dateCreated: string;
}

export interface IssueRecord {
  id: string;
  shortId: string;
  projectId: string;
  title: string;
  culprit: string;
  level: IssueLevel;
  status: IssueStatus;
  substatus: IssueSubstatus;
  platform: string;
  priority: 'high' | 'medium' | 'low';
  isUnhandled: boolean;
  /** Event count; the API renders it as a string. */
  count: number;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  firstRelease: string | null;
  lastRelease: string | null;
  assignedTo: Assignee | null;
  metadata: { type: string; value: string; filename: string; function: string };
  /** A custom grouping fingerprint (what `Sentry.withScope(s => s.setFingerprint(…))` sets); absent: `{{ default }}`. */
  fingerprint?: string[];
  /** Oldest first; the last one is the "latest" event. */
  events: EventRecord[];
  /** Oldest first, including notes (comments). */
  activity: ActivityRecord[];
}

export interface EmulatorData {
  organization: OrganizationRecord;
  users: UserRecord[];
  teams: TeamRecord[];
  members: MemberRecord[];
  projects: ProjectRecord[];
  environments: EnvironmentRecord[];
  releases: ReleaseRecord[];
  issues: IssueRecord[];
  /** Seeded issues whose events follow a known shape (trends.ts), for tests and demos. */
  trendScenarios: TrendScenarioIssue[];
}
