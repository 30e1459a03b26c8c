/** The JSON the dashboard reads: the agent tools' structured answers and the dashboard endpoints (docs/dashboard-api.md). */

export interface Session {
  workspaceId: string;
  expiresAt: string | null;
  csrfToken: string | null;
}

export interface Freshness {
  lastWebhookAt: string | null;
  inbox: { pending: number; dead: number };
  syncs: { connection: string; stream: string; updatedAt: string }[];
  newestIssueActivity: string | null;
  lastUpdateAt: string | null;
  stale: boolean;
}

export interface Status {
  connections: { source: string; organization: string | null; state: string; updatedAt: string }[];
  projects: { slug: string | null; issues: number; lastSeen: string | null }[];
  freshness: Freshness;
}

export type RunState = 'running' | 'idle' | 'failed';

export interface Overview {
  now: string;
  connections: {
    id: string;
    source: string;
    organization: string | null;
    state: string;
    updatedAt: string;
    sync: { state: RunState; startedAt: string; finishedAt: string | null } | null;
    streams: {
      stream: string;
      state: RunState;
      lastCompletedAt: string | null;
      updatedAt: string;
      progress: { cursor: string | null; window: { start: string; end: string } | null } | null;
    }[];
  }[];
  freshness: Freshness;
  inbox: { counts: Record<InboxState, number>; lastReceivedAt: string | null };
  processing: Record<'last5m' | 'last15m', { processed: number; perMinute: number }>;
  deliveriesPerMinute: { since: string; until: string; buckets: { at: string; received: number; processed: number }[] };
}

export type InboxState = 'pending' | 'processed' | 'skipped' | 'dead' | 'held';

export interface InboxPage {
  items: {
    seq: number;
    resource: string;
    action: string | null;
    state: InboxState;
    attempts: number;
    lastError: string | null;
    receivedAt: string;
    processedAt: string | null;
  }[];
  nextCursor: string | null;
}

export interface DeployMarker {
  release: string;
  environment: string;
  at: string;
  projects: string[];
}

export type AnnotationKind = 'new' | 'regressed' | 'resolved';

export interface EventsChart {
  since: string;
  until: string;
  interval: 'hour' | 'day';
  buckets: string[];
  series: { project: string; counts: number[]; total: number }[];
  deploys: DeployMarker[];
  deploysOmitted: number;
  annotations: {
    kind: AnnotationKind;
    at: string;
    issueId: string;
    shortId: string | null;
    title: string | null;
    project: string | null;
  }[];
  annotationsOmitted: number;
}

export type Verdict = 'worse' | 'better' | 'gone' | 'unchanged';

export interface DeployEffect {
  release: string;
  environment: string;
  finishedAt: string;
  perHourBefore: number;
  perHourAfter: number;
  verdict: Verdict;
}

export interface IssueTrend {
  issueId: string;
  shortId: string | null;
  project: string | null;
  interval: 'hour' | 'day';
  since: string;
  until: string;
  buckets: string[];
  counts: number[];
  deploys: DeployEffect[];
}

export interface TimelineAnswer {
  since: string;
  until: string;
  counts: Record<string, number>;
  countsCapped: boolean;
  items: {
    id: string;
    occurredAt: string;
    kind: string;
    type: string;
    summary: string;
    issueId: string | null;
    shortId: string | null;
    project: string | null;
    release: string | null;
    environment: string | null;
  }[];
  nextCursor: string | null;
}

export interface RelatedIssue {
  id: string;
  shortId: string | null;
  title: string | null;
  project: string | null;
  status: string | null;
  lastSeen: string | null;
  reasons: ('fingerprint' | 'type_culprit' | 'frame' | 'seer_file')[];
  resolvedIn: { at: string | null; release: string | null; commit: string | null; comment: string | null } | null;
}

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
  permalink: string | null;
  status: string | null;
  substatus: string | null;
  count: number | null;
  userCount: number | null;
  trend: {
    direction: 'new' | 'rising' | 'falling' | 'steady' | 'quiet';
    last24h: number | null;
    previous24h: number | null;
    last7d: number | null;
    previous7d: number | null;
    quietSince: string | null;
    series: number[];
    summary: string;
  };
  firstSeen: string | null;
  lastSeen: string | null;
  firstRelease: string | null;
  lastRelease: string | null;
  assignee: { type: 'user' | 'team'; id: string; name: string | null; email: string | null; teams: string[] } | null;
  topFrames: { function: string | null; filename: string | null; lineNo: number | null }[];
  latestEvent: { id: string; occurredAt: string; release: string | null; environment: string | null } | null;
  environments: string[];
  affected: { key: string; value: string; share: number; projectShare: number | null }[];
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
    before: string;
  }[];
  suspectCommits: {
    id: string;
    release: string;
    message: string | null;
    author: string | null;
    files: string[];
    reason: string;
  }[];
  deploys: DeployEffect[];
  asOf: { at: string; knownFrom: string | null } | null;
}

export interface IssueTags {
  issue: string;
  shortId: string | null;
  syncedAt: string | null;
  tags: {
    key: string;
    name: string | null;
    total: number;
    other: number;
    values: { value: string; count: number; share: number }[];
  }[];
}

export interface RelatedIssues {
  issue: string;
  related: RelatedIssue[];
}

export interface ImpactedIssue {
  id: string;
  shortId: string | null;
  title: string | null;
  perHourBefore: number;
  perHourAfter: number;
}

export interface Transition {
  occurredAt: string;
  issueId: string | null;
  shortId: string | null;
  summary: string;
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
    effects: Record<'worse' | 'appeared' | 'better' | 'gone', ImpactedIssue[]> | null;
  }[];
  nextRelease: { version: string; createdAt: string | null } | null;
  newIssues: {
    total: number;
    top: {
      id: string;
      shortId: string | null;
      title: string | null;
      project: string | null;
      status: string | null;
      count: number | null;
      userCount: number | null;
      firstSeen: string | null;
    }[];
  };
  regressions: Transition[];
  resolved: Transition[];
  commits: { id: string; message: string | null; author: string | null; files: string[] }[];
}

export interface SearchAnswer {
  query: string;
  hits: {
    kind: string;
    id: string;
    title: string;
    occurredAt: string | null;
    issueId: string | null;
    shortId: string | null;
    project: string | null;
    status: string | null;
    level: string | null;
    count: number | null;
    userCount: number | null;
    firstSeen: string | null;
    lastSeen: string | null;
    score: number;
  }[];
  match?: string;
  nextCursor: string | null;
}
