import type { Actor } from '../records.js';
import type { MemoryDatabase } from '../database.js';
import type { HistoryField, HistoryValues } from '../history.js';
import { compareText } from '../merge.js';
import { QueryError } from './errors.js';
import { newestEvent, type IssueFacts } from './issue-context.js';

/** How far back the answer's history reaches: before `knownFrom`, fields the history has no row for fall back to an issue's start. */
export interface AsOf {
  at: string;
  knownFrom: string | null;
}

/**
 * The issue as it was at `at`: status, substatus, assignee, priority, counts and comments from the
 * versioned history (memory/history.ts), and every dated list cut at that time. An issue starts
 * unresolved and unassigned, so a time before the history's first row of those fields reads so.
 * `withTeams` gives an assignee of then their teams (as known now).
 */
export async function issueAsOf(
  db: MemoryDatabase,
  workspaceId: string,
  facts: IssueFacts,
  at: string,
  withTeams: (actor: Actor | null) => Promise<IssueFacts['assignee']>,
): Promise<IssueFacts & { asOf: AsOf }> {
  if (facts.firstSeen && at < facts.firstSeen)
    throw new QueryError(
      `${facts.shortId ?? facts.id} did not exist yet at ${at}: it was first seen ${facts.firstSeen}. Ask for a time after that.`,
    );
  const rows = await db.all(
    db.qb
      .selectFrom('issue_history')
      .select(['field', 'ref', 'version', 'at', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', facts.id)
      .orderBy('version'),
  );
  const knownFrom = rows.reduce<string | null>(
    (first, row) => (first === null || row.at < first ? row.at : first),
    null,
  );
  // Rows are in version order, so the last one at or before `at` of each field (and comment) is its value then.
  const then = new Map<string, { field: HistoryField; ref: string; at: string; value: unknown }>();
  for (const row of rows)
    if (row.at <= at) then.set(`${row.field}\u0000${row.ref}`, { ...row, value: JSON.parse(row.value) });
  const value = <F extends HistoryField>(field: F): HistoryValues[F] | undefined =>
    then.get(`${field}\u0000`)?.value as HistoryValues[F] | undefined;

  const status = statusThen(then.get(`status\u0000`), facts.statusHistory, at);
  const counts = value('counts');
  const commentsThen = [...then.values()].filter((v) => v.field === 'comment');
  const latestEvent = (await newestEvent(db, workspaceId, facts.id, at))?.event ?? null;
  return {
    ...facts,
    status: status.status,
    substatus: status.substatus,
    assignee: await withTeams(value('assignee') ?? null),
    priority: value('priority') ?? null,
    count: counts?.count ?? null,
    userCount: counts?.userCount ?? null,
    lastSeen: counts?.lastSeen ?? latestEvent?.occurredAt ?? null,
    lastRelease: latestEvent?.release ?? null,
    latestEvent,
    statusHistory: facts.statusHistory.filter((h) => h.occurredAt <= at),
    comments: await commentsAt(db, workspaceId, commentsThen),
    alerts: facts.alerts.filter((a) => a.startedAt !== null && a.startedAt <= at),
    seer: facts.seer.filter((s) => s.at <= at),
    suspectDeploys: facts.suspectDeploys.filter((d) => d.finishedAt <= at),
    asOf: { at, knownFrom },
  };
}

/** What a status change on the timeline says the status became; its substatus only where the change names it. */
const STATUS_AFTER: Record<string, HistoryValues['status']> = {
  'issue.created': { status: 'unresolved', substatus: 'new' },
  'issue.resolved': { status: 'resolved', substatus: null },
  'issue.unresolved': { status: 'unresolved', substatus: null },
  'issue.regressed': { status: 'unresolved', substatus: 'regressed' },
  'issue.ignored': { status: 'ignored', substatus: null },
};

/**
 * The status then: the history's value, unless the timeline holds a later change before `at` — a
 * source that reports only an issue's present (an API sync) still logs each transition it read.
 */
function statusThen(
  row: { at: string; value: unknown } | undefined,
  timeline: IssueFacts['statusHistory'],
  at: string,
): HistoryValues['status'] {
  const change = timeline.filter((h) => h.occurredAt <= at && STATUS_AFTER[h.type]).at(-1);
  if (change && (!row || change.occurredAt > row.at)) return STATUS_AFTER[change.type];
  return (row?.value as HistoryValues['status'] | undefined) ?? STATUS_AFTER['issue.created'];
}

/** The comments that existed (and were not deleted) then, with their text of then, newest first. */
async function commentsAt(
  db: MemoryDatabase,
  workspaceId: string,
  versions: { ref: string; value: unknown }[],
): Promise<IssueFacts['comments']> {
  const live = versions.filter((v) => !(v.value as HistoryValues['comment']).deleted);
  if (!live.length) return [];
  const stored = new Map(
    (
      await db.all(
        db.qb
          .selectFrom('comments')
          .select(['id', 'author_name', 'created_at'])
          .where('workspace_id', '=', workspaceId)
          .where(
            'id',
            'in',
            live.map((v) => v.ref),
          ),
      )
    ).map((c) => [c.id, c]),
  );
  return live
    .map((v) => {
      const comment = stored.get(v.ref);
      return {
        id: v.ref,
        author: comment?.author_name ?? null,
        createdAt: comment?.created_at ?? null,
        text: (v.value as HistoryValues['comment']).text ?? '',
      };
    })
    .sort((a, b) => compareText(b.createdAt ?? '', a.createdAt ?? '') || compareText(a.id, b.id));
}
