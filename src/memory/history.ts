import type { Selectable } from 'kysely';
import type { Actor, CommentRecord, IssueRecord } from './records.js';
import type { Database } from './schema.js';
import { insertAllNew, type MemoryDatabase } from './database.js';
import { versionOf } from './versions.js';

type IssueRow = Selectable<Database['issues']>;

/** The fields of an issue whose past values the history keeps (`comment` rows carry the comment id in `ref`). */
export type HistoryField = 'status' | 'assignee' | 'priority' | 'counts' | 'comment';

export interface HistoryValues {
  status: { status: string; substatus: string | null };
  assignee: Actor | null;
  priority: string;
  counts: { count: number | null; userCount: number | null; lastSeen: string | null };
  comment: { text: string | null; deleted: boolean };
}

export type HistoryRow = Selectable<Database['issue_history']>;

/**
 * What an issue record says about the past, beside the merge that keeps only the present: each
 * versioned value (status, assignee) and each snapshot's priority and counts that differ from what is
 * stored. A re-observation of the current value adds nothing; a late, older fact is kept at its own
 * time. `current` is the row before the merge.
 */
export function issueHistoryRows(workspaceId: string, r: IssueRecord, current: IssueRow | undefined): HistoryRow[] {
  const rows: HistoryRow[] = [];
  const add = (field: HistoryField, version: string, at: string, value: unknown) =>
    rows.push({ workspace_id: workspaceId, issue_id: r.id, field, ref: '', version, at, value: JSON.stringify(value) });
  if (r.status) {
    const version = versionOf(r.status);
    const same = current?.status === r.status.value.status && current.substatus === r.status.value.substatus;
    if (!(same && !isOlder(version, current?.status_version))) add('status', version, r.status.at, r.status.value);
  }
  if (r.assignee) {
    const version = versionOf(r.assignee);
    const same = (current?.assignee_id ?? null) === (r.assignee.value?.id ?? null);
    if (!(same && !isOlder(version, current?.assignee_version)))
      add('assignee', version, r.assignee.at, r.assignee.value);
  }
  if (r.priority != null && r.priority !== current?.priority)
    add('priority', snapshotVersion(r.observedAt, r.priority), r.observedAt, r.priority);
  if (r.count != null && (r.count !== current?.count || (r.userCount ?? null) !== (current?.user_count ?? null))) {
    const counts: HistoryValues['counts'] = {
      count: r.count,
      userCount: r.userCount ?? null,
      lastSeen: r.lastSeen ?? null,
    };
    add('counts', snapshotVersion(r.observedAt, counts), r.observedAt, counts);
  }
  return rows;
}

/** A comment's text as of its version, unless it is the version already stored. */
export function commentHistoryRows(
  workspaceId: string,
  r: CommentRecord,
  currentVersion: string | undefined,
): HistoryRow[] {
  const version = versionOf(r.body);
  if (version === currentVersion) return [];
  return [
    {
      workspace_id: workspaceId,
      issue_id: r.issueId,
      field: 'comment',
      ref: r.id,
      version,
      at: r.body.at,
      value: JSON.stringify(r.body.value),
    },
  ];
}

/** Whether `version` is older than the stored one: a late fact, kept at its own time even when the value is the current one. A replay (the same version) is not. */
function isOlder(version: string, stored: string | null | undefined): boolean {
  return stored != null && version < stored;
}

/** Snapshots are ordered by when they were observed; the value breaks a tie, as versionOf does. */
function snapshotVersion(at: string, value: unknown): string {
  return `${at}|${JSON.stringify(value)}`;
}

/** Keeps `rows` (distinct keys); a version stored before stays as it was. */
export async function insertHistory(db: MemoryDatabase, rows: readonly HistoryRow[]): Promise<void> {
  await insertAllNew(db, 'issue_history', rows);
}
