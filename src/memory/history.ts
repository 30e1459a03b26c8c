import type { Selectable } from 'kysely';
import type { Actor, CommentRecord, IssueRecord } from './records.js';
import type { Database } from './schema.js';
import { prepared, type MemoryDatabase } from './database.js';
import { isNewer, versionOf } from './versions.js';

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

/**
 * Records what an issue record says about the past, beside the merge that keeps only the present:
 * each versioned value (status, assignee) and each snapshot's priority and counts that differ from
 * what is stored. A re-observation of the current value adds nothing; a late, older fact is kept at
 * its own time. Call after the merge read `current` and before it is written.
 */
export async function recordIssueHistory(
  db: MemoryDatabase,
  workspaceId: string,
  r: IssueRecord,
  current: IssueRow | undefined,
): Promise<void> {
  const write = (field: HistoryField, version: string, at: string, value: unknown) =>
    insertHistory(db, workspaceId, r.id, field, '', version, at, value);
  if (r.status) {
    const version = versionOf(r.status);
    const same = current?.status === r.status.value.status && current.substatus === r.status.value.substatus;
    if (!(same && isNewer(version, current?.status_version)))
      await write('status', version, r.status.at, r.status.value);
  }
  if (r.assignee) {
    const version = versionOf(r.assignee);
    const same = (current?.assignee_id ?? null) === (r.assignee.value?.id ?? null);
    if (!(same && isNewer(version, current?.assignee_version)))
      await write('assignee', version, r.assignee.at, r.assignee.value);
  }
  if (r.priority != null && r.priority !== current?.priority)
    await write('priority', snapshotVersion(r.observedAt, r.priority), r.observedAt, r.priority);
  if (r.count != null && (r.count !== current?.count || (r.userCount ?? null) !== (current?.user_count ?? null))) {
    const counts: HistoryValues['counts'] = {
      count: r.count,
      userCount: r.userCount ?? null,
      lastSeen: r.lastSeen ?? null,
    };
    await write('counts', snapshotVersion(r.observedAt, counts), r.observedAt, counts);
  }
}

/** Records a comment's text as of its version, unless it is the version already stored. */
export async function recordCommentHistory(
  db: MemoryDatabase,
  workspaceId: string,
  r: CommentRecord,
  currentVersion: string | undefined,
): Promise<void> {
  const version = versionOf(r.body);
  if (version === currentVersion) return;
  await insertHistory(db, workspaceId, r.issueId, 'comment', r.id, version, r.body.at, r.body.value);
}

/** Snapshots are ordered by when they were observed; the value breaks a tie, as versionOf does. */
function snapshotVersion(at: string, value: unknown): string {
  return `${at}|${JSON.stringify(value)}`;
}

async function insertHistory(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  field: HistoryField,
  ref: string,
  version: string,
  at: string,
  value: unknown,
): Promise<void> {
  const statement = prepared(db, 'insert issue history', (qb) =>
    qb
      .insertInto('issue_history')
      .values({ workspace_id: '', issue_id: '', field: 'status', ref: '', version: '', at: '', value: '' })
      .onConflict((oc) => oc.doNothing()),
  );
  await db.run(statement(workspaceId, issueId, field, ref, version, at, JSON.stringify(value)));
}
