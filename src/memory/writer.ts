import { sql, type Compilable } from 'kysely';
import type {
  AlertRecord,
  CommentRecord,
  CommitRecord,
  ConnectionRecord,
  EventRecord,
  InsightRecord,
  IssueRecord,
  MemoryRecord,
  ReleaseRecord,
} from './records.js';
import type { Database } from './schema.js';
import { commentHistoryRows, insertHistory, issueHistoryRows } from './history.js';
import { indexObservations, searchDocOf } from './search-index.js';
import { applyIssueStats, countEvent, fillProjects } from './event-counts.js';
import { applyIssueTags, countEventTags } from './issue-tags.js';
import { addSignatures, signatureRows, syncIssueSignatures } from './signatures.js';
import { prepared, rowsStatement, type MemoryDatabase } from './database.js';
import {
  deployRow,
  eventRow,
  memberRow,
  mergeAlert,
  mergeComment,
  mergeCommit,
  mergeConnection,
  mergeInsight,
  mergeIssue,
  mergeKeys,
  mergeRelease,
  observationRow,
  projectRow,
  teamRow,
  type Row,
} from './merge.js';

/**
 * Merges records into the store, one at a time, by the rules of merge.ts (batch-writer.ts applies the
 * same rules to a whole batch at once). Call inside a transaction. Merges that read before they write first lock the record's key, so
 * concurrent writers of one record (two workers, a webhook and a sync page) take turns on PostgreSQL.
 */
export async function applyRecords(
  db: MemoryDatabase,
  workspaceId: string,
  source: string,
  records: readonly MemoryRecord[],
): Promise<void> {
  for (const record of records) {
    switch (record.kind) {
      case 'issue':
        await applyIssue(db, workspaceId, record);
        break;
      case 'event':
        await applyEvent(db, workspaceId, record);
        break;
      case 'issue_tags':
        await applyIssueTags(db, workspaceId, record);
        break;
      case 'issue_stats':
        await applyIssueStats(db, workspaceId, record);
        break;
      case 'comment':
        await applyComment(db, workspaceId, record);
        break;
      case 'alert':
        await applyAlert(db, workspaceId, record);
        break;
      case 'insight':
        await applyInsight(db, workspaceId, record);
        break;
      case 'project':
        await upsertProjects(db, [projectRow(workspaceId, record)]);
        break;
      case 'release':
        await applyRelease(db, workspaceId, record);
        break;
      case 'deploy':
        await upsert(db, 'deploys', ['workspace_id', 'id'], deployRow(workspaceId, record));
        break;
      case 'commit':
        await applyCommit(db, workspaceId, record);
        break;
      case 'team':
        await upsert(db, 'teams', ['workspace_id', 'id'], teamRow(workspaceId, record));
        break;
      case 'member':
        await upsert(db, 'members', ['workspace_id', 'id'], memberRow(workspaceId, record));
        break;
      case 'environment':
        await upsert(db, 'environments', ['workspace_id', 'name'], { workspace_id: workspaceId, name: record.name });
        break;
      case 'connection':
        await applyConnection(db, workspaceId, source, record);
        break;
      case 'observation':
        await upsert(db, 'observations', ['workspace_id', 'id'], observationRow(workspaceId, record));
        await indexObservations(db, [searchDocOf(workspaceId, record)]);
        break;
    }
  }
}

/**
 * Inserts `row`, or updates every other column of the row with its key. With `current` (the row as read
 * in this transaction, under the merge's lock where writers race), only the columns that differ are
 * written, and a row that would not change is not written at all: replays are common, and each column
 * written rewrites the indexes that hold it and is checked by the search triggers.
 */
async function upsert<T extends keyof Database>(
  db: MemoryDatabase,
  table: T,
  keys: readonly string[],
  row: Row<T>,
  current?: Row<T>,
): Promise<void> {
  const values = row as Record<string, unknown>;
  const columns = Object.keys(values);
  if (current) {
    const stored = current as Record<string, unknown>;
    const changed = columns.filter((column) => values[column] !== stored[column]);
    if (!changed.length) return;
    const update = prepared(db, `update ${table} (${changed.join()}) by (${keys.join()})`, (qb) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      whereEach((qb.updateTable(table) as any).set(Object.fromEntries(changed.map((column) => [column, null]))), keys),
    );
    await db.run(update(...changed.map((column) => values[column]), ...keys.map((key) => values[key])));
    return;
  }
  // Kysely's generic insert types cannot follow a table chosen at run time; the row type is checked by callers.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const statement = prepared(db, `upsert ${table} (${columns.join()}) on (${keys.join()})`, (qb) => {
    const updates = columns.filter((column) => !keys.includes(column));
    return qb
      .insertInto(table)
      .values(Object.fromEntries(columns.map((column) => [column, null])) as any)
      .onConflict((oc) =>
        updates.length
          ? oc
              .columns(keys as any)
              .doUpdateSet(Object.fromEntries(updates.map((column) => [column, sql.ref(`excluded.${column}`)])) as any)
          : oc.doNothing(),
      );
  });
  /* eslint-enable @typescript-eslint/no-explicit-any */
  await db.run(statement(...columns.map((column) => values[column])));
}

/** The stored row of `table` with the given key, if any. */
function storedRow<T extends keyof Database>(
  db: MemoryDatabase,
  table: T,
  key: Partial<Row<T>>,
): Promise<Row<T> | undefined> {
  const columns = Object.keys(key);
  const statement = prepared(
    db,
    `select ${table} by (${columns.join()})`,
    (qb) => whereEach(qb.selectFrom(table).selectAll(), columns) as Compilable<Row<T>>,
  );
  return db.get(statement(...Object.values(key)));
}

/** `query` filtered on each column equal to a parameter, bound in `columns`' order (for tables chosen at run time). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function whereEach(query: any, columns: readonly string[]): Compilable<unknown> {
  return columns.reduce((filtered, column) => filtered.where(column, '=', ''), query);
}

/**
 * An issue shows the frames of its newest stored event that has any (ties by event id): a function of
 * the set of events, so it does not depend on the order they were delivered in.
 */
async function newestEventFrames(db: MemoryDatabase, workspaceId: string, issueId: string): Promise<string | null> {
  const statement = prepared(db, 'newest event frames', (qb) =>
    qb
      .selectFrom('events')
      .select('top_frames')
      .where('workspace_id', '=', '')
      .where('issue_id', '=', '')
      .where('top_frames', '!=', '[]')
      .orderBy('occurred_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1),
  );
  const row = await db.get(statement(workspaceId, issueId, '[]', 1));
  return row?.top_frames ?? null;
}

async function applyIssue(db: MemoryDatabase, workspaceId: string, r: IssueRecord): Promise<void> {
  await db.lock(mergeKeys.issue(workspaceId, r.id));
  const current = await storedRow(db, 'issues', { workspace_id: workspaceId, id: r.id });
  // One query only when the frames can change (see mergeIssue).
  const frames = r.topFrames?.length ? await newestEventFrames(db, workspaceId, r.id) : undefined;
  const row = mergeIssue(workspaceId, r, current, frames);
  await insertHistory(db, issueHistoryRows(workspaceId, r, current));
  await upsert(db, 'issues', ['workspace_id', 'id'], row, current);
  await syncIssueSignatures(db, workspaceId, row, current);
  if (row.project_slug !== null && current?.project_slug == null)
    await fillProjects(db, [[workspaceId, row.id, row.project_slug]]);
}

async function applyEvent(db: MemoryDatabase, workspaceId: string, r: EventRecord): Promise<void> {
  const row = eventRow(workspaceId, r);
  // Its grouping keys are the issue's for good: an issue that later shows one of them is the same problem.
  if (r.issueId !== null && r.fingerprint?.length)
    await addSignatures(db, signatureRows(workspaceId, r.issueId, 'fingerprint', r.fingerprint));
  // An event is counted (tag values, event rates) once: when this insert is the one that stores it,
  // whichever path (webhook, sync) brings it and however many workers race on it.
  if (!(await insertNew(db, 'events', row))) {
    await upsert(db, 'events', ['workspace_id', 'id'], row);
    return;
  }
  if (r.issueId === null) return;
  await countEventTags(db, workspaceId, r.issueId, r.occurredAt, r.tags);
  await countEvent(db, workspaceId, r.issueId, r.occurredAt);
}

/** Inserts `row` unless its key is stored already; whether it did. */
async function insertNew<T extends keyof Database>(db: MemoryDatabase, table: T, row: Row<T>): Promise<boolean> {
  const values = row as Record<string, unknown>;
  const columns = Object.keys(values);
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const statement = prepared(db, `insert new ${table} (${columns.join()})`, (qb) =>
    qb
      .insertInto(table)
      .values(Object.fromEntries(columns.map((column) => [column, null])) as any)
      .onConflict((oc) => oc.doNothing())
      .returning(sql<number>`1`.as('inserted')),
  );
  /* eslint-enable @typescript-eslint/no-explicit-any */
  return (await db.get(statement(...columns.map((column) => values[column])))) !== undefined;
}

async function applyComment(db: MemoryDatabase, workspaceId: string, r: CommentRecord): Promise<void> {
  await db.lock(mergeKeys.comment(workspaceId, r.id));
  const current = await storedRow(db, 'comments', { workspace_id: workspaceId, id: r.id });
  await insertHistory(db, commentHistoryRows(workspaceId, r, current?.version));
  await upsert(db, 'comments', ['workspace_id', 'id'], mergeComment(workspaceId, r, current), current);
}

async function applyAlert(db: MemoryDatabase, workspaceId: string, r: AlertRecord): Promise<void> {
  await db.lock(mergeKeys.alert(workspaceId, r.id));
  const current = await storedRow(db, 'alerts', { workspace_id: workspaceId, id: r.id });
  await upsert(db, 'alerts', ['workspace_id', 'id'], mergeAlert(workspaceId, r, current), current);
}

async function applyInsight(db: MemoryDatabase, workspaceId: string, r: InsightRecord): Promise<void> {
  await db.lock(mergeKeys.insight(workspaceId, r));
  const current = await storedRow(db, 'insights', {
    workspace_id: workspaceId,
    issue_id: r.issueId,
    run_id: r.runId,
    stage: r.stage,
  });
  if (r.files?.length) await addSignatures(db, signatureRows(workspaceId, r.issueId, 'seer_file', r.files));
  const row = mergeInsight(workspaceId, r, current);
  if (row) await upsert(db, 'insights', ['workspace_id', 'issue_id', 'run_id', 'stage'], row, current);
}

async function applyRelease(db: MemoryDatabase, workspaceId: string, r: ReleaseRecord): Promise<void> {
  await db.lock(mergeKeys.release(workspaceId, r.version));
  const current = await storedRow(db, 'releases', { workspace_id: workspaceId, version: r.version });
  await upsert(db, 'releases', ['workspace_id', 'version'], mergeRelease(workspaceId, r, current), current);
}

async function applyCommit(db: MemoryDatabase, workspaceId: string, r: CommitRecord): Promise<void> {
  await db.lock(mergeKeys.commit(workspaceId, r.release, r.id));
  const current = await storedRow(db, 'commits', { workspace_id: workspaceId, release: r.release, id: r.id });
  await upsert(db, 'commits', ['workspace_id', 'release', 'id'], mergeCommit(workspaceId, r, current), current);
}

async function applyConnection(
  db: MemoryDatabase,
  workspaceId: string,
  source: string,
  r: ConnectionRecord,
): Promise<void> {
  await db.lock(mergeKeys.connection(workspaceId, source, r.externalId));
  const current = await storedRow(db, 'connections', { workspace_id: workspaceId, source, external_id: r.externalId });
  const row = mergeConnection(workspaceId, source, r, current);
  if (row) await upsert(db, 'connections', ['workspace_id', 'id'], row, current);
}

/**
 * Projects change rarely and are named by every issue delivery: the merge is the upsert's own (a
 * known value wins over a missing one; nothing is written when nothing changes), so writers of one
 * project need no lock and do not take turns. `rows` must have distinct keys.
 */
export async function upsertProjects(db: MemoryDatabase, rows: readonly Row<'projects'>[]): Promise<void> {
  if (!rows.length) return;
  await db.run(
    rowsStatement(db, 'upsert projects', rows, (qb, values) =>
      qb
        .insertInto('projects')
        .values([...values])
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'id'])
            .doUpdateSet((eb) => ({
              slug: eb.fn.coalesce('excluded.slug', 'projects.slug'),
              name: eb.fn.coalesce('excluded.name', 'projects.name'),
              platform: eb.fn.coalesce('excluded.platform', 'projects.platform'),
            }))
            .where((eb) =>
              eb.or(
                (['slug', 'name', 'platform'] as const).map((column) =>
                  eb(
                    eb.fn.coalesce(`excluded.${column}`, `projects.${column}`),
                    'is distinct from',
                    eb.ref(`projects.${column}`),
                  ),
                ),
              ),
            ),
        ),
    ),
  );
}
