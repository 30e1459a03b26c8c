import { NotInMemoryError } from './context/errors.js';
import { resolveIssue } from './context/issue-ref.js';
import type { Actor, StackFrame } from './records.js';
import type { MemoryDatabase } from './database.js';

export interface IssueView {
  id: string;
  shortId: string | null;
  title: string | null;
  culprit: string | null;
  errorType: string | null;
  message: string | null;
  status: string | null;
  substatus: string | null;
  level: string | null;
  platform: string | null;
  project: string | null;
  projectId: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
  firstRelease: string | null;
  lastRelease: string | null;
  count: number | null;
  userCount: number | null;
  permalink: string | null;
  assignee: Actor | null;
  topFrames: StackFrame[];
  latestEvent: { id: string; occurredAt: string; release: string | null; environment: string | null; tags: Record<string, string> } | null;
  comments: { id: string; text: string; author: string | null; createdAt: string | null }[];
  alerts: { id: string; source: string; title: string; state: string; startedAt: string | null }[];
  insights: { runId: string; stage: string; state: string; summary: string | null; details: unknown; at: string }[];
  timeline: { kind: string; occurredAt: string; summary: string }[];
}

export async function getIssueView(db: MemoryDatabase, workspaceId: string, ref: string): Promise<IssueView | null> {
  let id: string;
  try {
    id = await resolveIssue(db, workspaceId, ref);
  } catch (error) {
    if (error instanceof NotInMemoryError) return null;
    throw error;
  }
  const issue = (await db.get(db.qb.selectFrom('issues').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id)))!;
  const latestEvent = await db.get(
    db.qb.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId).where('issue_id', '=', id).orderBy('occurred_at', 'desc').limit(1),
  );
  const comments = await db.all(
    db.qb
      .selectFrom('comments')
      .select(['id', 'text', 'author_name', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', id)
      .where('deleted', '=', 0)
      .orderBy('created_at')
      .orderBy('id'),
  );
  const alerts = await db.all(
    db.qb
      .selectFrom('alerts')
      .select(['id', 'source', 'title', 'state', 'started_at'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', id)
      .orderBy('started_at', 'desc'),
  );
  const insights = await db.all(
    db.qb.selectFrom('insights').selectAll().where('workspace_id', '=', workspaceId).where('issue_id', '=', id).orderBy('at'),
  );
  const timeline = await db.all(
    db.qb
      .selectFrom('observations')
      .select(['type', 'occurred_at', 'summary'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', id)
      .orderBy('occurred_at')
      .orderBy('id'),
  );
  return {
    id: issue.id,
    shortId: issue.short_id,
    title: issue.title,
    culprit: issue.culprit,
    errorType: issue.error_type,
    message: issue.message,
    status: issue.status,
    substatus: issue.substatus,
    level: issue.level,
    platform: issue.platform,
    project: issue.project_slug,
    projectId: issue.project_id,
    firstSeen: issue.first_seen,
    lastSeen: issue.last_seen,
    firstRelease: issue.first_release,
    lastRelease: issue.last_release,
    count: issue.count,
    userCount: issue.user_count,
    permalink: issue.permalink,
    assignee: issue.assignee_id
      ? { type: issue.assignee_type as Actor['type'], id: issue.assignee_id, name: issue.assignee_name, email: issue.assignee_email }
      : null,
    topFrames: issue.top_frames ? (JSON.parse(issue.top_frames) as StackFrame[]) : [],
    latestEvent: latestEvent
      ? { id: latestEvent.id, occurredAt: latestEvent.occurred_at, release: latestEvent.release, environment: latestEvent.environment, tags: JSON.parse(latestEvent.tags) as Record<string, string> }
      : null,
    comments: comments.map((c) => ({ id: c.id, text: c.text ?? '', author: c.author_name, createdAt: c.created_at })),
    alerts: alerts.map((a) => ({ id: a.id, source: a.source, title: a.title, state: a.state, startedAt: a.started_at })),
    insights: insights.map((i) => ({ runId: i.run_id, stage: i.stage, state: i.state, summary: i.summary, details: i.details ? JSON.parse(i.details) : null, at: i.at })),
    timeline: timeline.map((t) => ({ kind: t.type, occurredAt: t.occurred_at, summary: t.summary })),
  };
}
