/** The JSON the dashboard reads: the agent tools' structured answers and the dashboard endpoints (docs/dashboard-api.md). */

import type { z } from 'zod';
import type {
  issueContextTool,
  issueTagsTool,
  relatedIssuesTool,
  releaseContextTool,
  searchTool,
  timelineTool,
} from '../../src/agent/tools/index.js';
import type { EventChart } from '../../src/memory/dashboard/event-chart.js';
import type { IssueTrendChart } from '../../src/memory/dashboard/issue-trend.js';

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

// The server's own types: the tools' answers are what their output schemas say, the charts what the
// dashboard queries return. Type-only imports: nothing of the server reaches the bundle (web/tsconfig.json
// includes node's types only for the server files these reach).
type Answer<T extends { outputSchema: z.ZodRawShape }> = z.infer<z.ZodObject<T['outputSchema']>>;

export type EventsChart = EventChart;
export type DeployMarker = EventChart['deploys'][number];
export type IssueTrend = IssueTrendChart;
export type DeployEffect = IssueTrendChart['deploys'][number];
export type Verdict = DeployEffect['verdict'];

export type TimelineAnswer = Answer<typeof timelineTool>;
export type IssueContext = Answer<typeof issueContextTool>;
export type RelatedIssues = Answer<typeof relatedIssuesTool>;
export type RelatedIssue = RelatedIssues['related'][number];
export type IssueTags = Answer<typeof issueTagsTool>;
export type ReleaseContext = Answer<typeof releaseContextTool>;
export type ImpactedIssue = NonNullable<ReleaseContext['deploys'][number]['effects']>['worse'][number];
export type Transition = ReleaseContext['regressions'][number];
export type SearchAnswer = Answer<typeof searchTool>;
