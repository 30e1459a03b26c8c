import { sql, type Compilable, type Selectable } from 'kysely';
import type {
  AlertRecord,
  CommentRecord,
  CommitRecord,
  ConnectionRecord,
  DeployRecord,
  EventRecord,
  InsightRecord,
  IssueRecord,
  MemoryRecord,
  ObservationRecord,
  ProjectRecord,
  ReleaseRecord,
} from './records.js';
import type { Database, IssueTable } from './schema.js';
import { recordCommentHistory, recordIssueHistory } from './history.js';
import { indexObservation } from './search-index.js';
import { applyIssueStats, countEvent } from './event-counts.js';
import { applyIssueTags, countEventTags } from './issue-tags.js';
import { addSignatures, syncIssueSignatures } from './signatures.js';
import { prepared, type MemoryDatabase } from './database.js';
import { isNewer, maxNumber, maxTime, minTime, versionOf } from './versions.js';

type Row<T extends keyof Database> = Selectable<Database[T]>;

/**
 * Merges records into the store. Every merge is idempotent and order-tolerant: counters take the
 * maximum, first-seen times the minimum, and versioned values (status, assignee, comment text, alert
 * state) only move forward, so any replay or reordering of the same facts converges.
 * Call inside a transaction. Merges that read before they write first lock the record's key, so
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
        await applyProject(db, workspaceId, record);
        break;
      case 'release':
        await applyRelease(db, workspaceId, record);
        break;
      case 'deploy':
        await applyDeploy(db, workspaceId, record);
        break;
      case 'commit':
        await applyCommit(db, workspaceId, record);
        break;
      case 'team':
        await upsert(db, 'teams', ['workspace_id', 'id'], {
          workspace_id: workspaceId,
          id: record.id,
          slug: record.slug,
          name: record.name,
        });
        break;
      case 'member':
        await upsert(db, 'members', ['workspace_id', 'id'], {
          workspace_id: workspaceId,
          id: record.id,
          name: record.name,
          email: record.email,
          role: record.role,
          teams: toJson([...record.teams].sort()),
        });
        break;
      case 'environment':
        await upsert(db, 'environments', ['workspace_id', 'name'], { workspace_id: workspaceId, name: record.name });
        break;
      case 'connection':
        await applyConnection(db, workspaceId, source, record);
        break;
      case 'observation':
        await applyObservation(db, workspaceId, record);
        break;
    }
  }
}

/**
 * JSON text for a JSON column. U+0000 becomes U+FFFD: PostgreSQL's jsonb refuses it, and both engines
 * must store the same facts.
 */
function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') ? json.replaceAll('\\u0000', '\\ufffd') : json;
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
 * A later snapshot's known values win; an older one only fills gaps. Snapshots are ordered by when
 * they were observed, then by the last event they saw (gap-filling glimpses through events all share
 * one observation time). At a full tie each field keeps the greater value, so the memory converges
 * whatever order the two arrive in.
 */
function pick<V extends string>(
  incoming: V | null | undefined,
  current: V | null | undefined,
  order: number,
): V | null {
  if (incoming == null) return current ?? null;
  if (current == null || order > 0) return incoming;
  if (order < 0) return current;
  return incoming > current ? incoming : current;
}

function compareSnapshots(r: IssueRecord, current: IssueTable | undefined): number {
  if (!current) return 1;
  return compareText(r.observedAt, current.snapshot_at) || compareText(r.lastSeen ?? '', current.last_seen ?? '');
}

function compareText(a: string, b: string): number {
  return a > b ? 1 : a < b ? -1 : 0;
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
  await db.lock(`issue:${workspaceId}:${r.id}`);
  const current = await storedRow(db, 'issues', { workspace_id: workspaceId, id: r.id });
  const order = compareSnapshots(r, current);
  const row: IssueTable = {
    workspace_id: workspaceId,
    id: r.id,
    short_id: pick(r.shortId, current?.short_id, order),
    title: pick(r.title, current?.title, order),
    culprit: pick(r.culprit, current?.culprit, order),
    error_type: pick(r.errorType, current?.error_type, order),
    message: pick(r.message, current?.message, order),
    level: pick(r.level, current?.level, order),
    platform: pick(r.platform, current?.platform, order),
    category: pick(r.category, current?.category, order),
    priority: pick(r.priority, current?.priority, order),
    permalink: pick(r.permalink, current?.permalink, order),
    project_id: pick(r.projectId, current?.project_id, order),
    project_slug: pick(r.projectSlug, current?.project_slug, order),
    count: maxNumber(r.count, current?.count),
    user_count: maxNumber(r.userCount, current?.user_count),
    first_seen: minTime(r.firstSeen, current?.first_seen),
    last_seen: maxTime(r.lastSeen, current?.last_seen),
    first_release: pick(r.firstRelease, current?.first_release, order),
    last_release: pick(r.lastRelease, current?.last_release, order),
    // Only a glimpse through an event brings frames, and that event is stored by then: the issue takes
    // the newest stored event's. Any other snapshot keeps what it has (one query only when it can change).
    top_frames: r.topFrames?.length
      ? ((await newestEventFrames(db, workspaceId, r.id)) ?? toJson(r.topFrames))
      : (current?.top_frames ?? null),
    snapshot_at: maxTime(r.observedAt, current?.snapshot_at) ?? r.observedAt,
    status: current?.status ?? null,
    substatus: current?.substatus ?? null,
    status_version: current?.status_version ?? null,
    assignee_type: current?.assignee_type ?? null,
    assignee_id: current?.assignee_id ?? null,
    assignee_name: current?.assignee_name ?? null,
    assignee_email: current?.assignee_email ?? null,
    assignee_version: current?.assignee_version ?? null,
  };
  if (r.status) {
    const version = versionOf(r.status);
    if (isNewer(version, row.status_version)) {
      row.status = r.status.value.status;
      row.substatus = r.status.value.substatus;
      row.status_version = version;
    }
  }
  if (r.assignee) {
    const version = versionOf(r.assignee);
    if (isNewer(version, row.assignee_version)) {
      const to = r.assignee.value;
      row.assignee_type = to?.type ?? null;
      row.assignee_id = to?.id ?? null;
      row.assignee_name = to?.name ?? null;
      row.assignee_email = to?.email ?? null;
      row.assignee_version = version;
    }
  }
  await recordIssueHistory(db, workspaceId, r, current);
  await upsert(db, 'issues', ['workspace_id', 'id'], row, current);
  await syncIssueSignatures(db, workspaceId, row, current);
}

async function applyEvent(db: MemoryDatabase, workspaceId: string, r: EventRecord): Promise<void> {
  const row: Row<'events'> = {
    workspace_id: workspaceId,
    id: r.id,
    issue_id: r.issueId,
    project_id: r.projectId,
    title: r.title,
    message: r.message,
    culprit: r.culprit,
    level: r.level,
    platform: r.platform,
    release: r.release,
    environment: r.environment,
    error_type: r.errorType,
    error_value: r.errorValue,
    occurred_at: r.occurredAt,
    url: r.url,
    tags: toJson(r.tags),
    top_frames: toJson(r.topFrames),
  };
  // Its grouping keys are the issue's for good: an issue that later shows one of them is the same problem.
  if (r.issueId !== null && r.fingerprint?.length)
    await addSignatures(db, workspaceId, r.issueId, 'fingerprint', r.fingerprint);
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
  await db.lock(`comment:${workspaceId}:${r.id}`);
  const current = await storedRow(db, 'comments', { workspace_id: workspaceId, id: r.id });
  const version = versionOf(r.body);
  const newer = isNewer(version, current?.version);
  const row: Row<'comments'> = {
    workspace_id: workspaceId,
    id: r.id,
    issue_id: r.issueId,
    project_slug: r.projectSlug ?? current?.project_slug ?? null,
    author_id: r.author?.id ?? current?.author_id ?? null,
    author_name: r.author?.name ?? current?.author_name ?? null,
    created_at: minTime(r.createdAt, current?.created_at),
    text: newer ? r.body.value.text : (current?.text ?? null),
    deleted: newer ? Number(r.body.value.deleted) : (current?.deleted ?? 0),
    version: newer ? version : current!.version,
  };
  await recordCommentHistory(db, workspaceId, r, current?.version);
  await upsert(db, 'comments', ['workspace_id', 'id'], row, current);
}

async function applyAlert(db: MemoryDatabase, workspaceId: string, r: AlertRecord): Promise<void> {
  await db.lock(`alert:${workspaceId}:${r.id}`);
  const current = await storedRow(db, 'alerts', { workspace_id: workspaceId, id: r.id });
  const version = versionOf(r.state);
  const newer = isNewer(version, current?.state_version);
  const order = newer ? 1 : -1;
  await upsert(
    db,
    'alerts',
    ['workspace_id', 'id'],
    {
      workspace_id: workspaceId,
      id: r.id,
      source: r.source,
      rule_id: pick(r.ruleId, current?.rule_id, order),
      rule_name: pick(r.ruleName, current?.rule_name, order),
      title: pick(r.title, current?.title, order) ?? r.title,
      description: pick(r.description, current?.description, order),
      issue_id: pick(r.issueId, current?.issue_id, order),
      event_id: pick(r.eventId, current?.event_id, order),
      projects: newer || !current ? toJson(r.projects) : current.projects,
      url: pick(r.url, current?.url, order),
      started_at: minTime(r.startedAt, current?.started_at),
      state: newer ? r.state.value : current!.state,
      state_version: newer ? version : current!.state_version,
    },
    current,
  );
}

const stageStateRank = { started: 0, completed: 1 } as const;

async function applyInsight(db: MemoryDatabase, workspaceId: string, r: InsightRecord): Promise<void> {
  await db.lock(`insight:${workspaceId}:${r.issueId}:${r.runId}:${r.stage}`);
  const current = await storedRow(db, 'insights', {
    workspace_id: workspaceId,
    issue_id: r.issueId,
    run_id: r.runId,
    stage: r.stage,
  });
  if (r.files?.length) await addSignatures(db, workspaceId, r.issueId, 'seer_file', r.files);
  if (current) {
    const currentRank = stageStateRank[current.state as keyof typeof stageStateRank] ?? 0;
    const rank = stageStateRank[r.state];
    if (rank < currentRank || (rank === currentRank && r.at <= current.at)) return;
  }
  await upsert(
    db,
    'insights',
    ['workspace_id', 'issue_id', 'run_id', 'stage'],
    {
      workspace_id: workspaceId,
      issue_id: r.issueId,
      run_id: r.runId,
      stage: r.stage,
      state: r.state,
      summary: r.summary ?? current?.summary ?? null,
      details: r.details == null ? (current?.details ?? null) : toJson(r.details),
      at: r.at,
    },
    current,
  );
}

async function applyProject(db: MemoryDatabase, workspaceId: string, r: ProjectRecord): Promise<void> {
  await db.lock(`project:${workspaceId}:${r.id}`);
  const current = await storedRow(db, 'projects', { workspace_id: workspaceId, id: r.id });
  await upsert(
    db,
    'projects',
    ['workspace_id', 'id'],
    {
      workspace_id: workspaceId,
      id: r.id,
      slug: r.slug ?? current?.slug ?? null,
      name: r.name ?? current?.name ?? null,
      platform: r.platform || current?.platform || null,
    },
    current,
  );
}

async function applyRelease(db: MemoryDatabase, workspaceId: string, r: ReleaseRecord): Promise<void> {
  await db.lock(`release:${workspaceId}:${r.version}`);
  const current = await storedRow(db, 'releases', { workspace_id: workspaceId, version: r.version });
  const projects = new Set<string>([...(current ? (JSON.parse(current.projects) as string[]) : []), ...r.projects]);
  await upsert(
    db,
    'releases',
    ['workspace_id', 'version'],
    {
      workspace_id: workspaceId,
      version: r.version,
      short_version: r.shortVersion ?? current?.short_version ?? null,
      projects: toJson([...projects].sort()),
      created_at: minTime(r.createdAt, current?.created_at),
      released_at: r.releasedAt ?? current?.released_at ?? null,
      first_event: minTime(r.firstEvent, current?.first_event),
      last_event: maxTime(r.lastEvent, current?.last_event),
      commit_count: maxNumber(r.commitCount, current?.commit_count),
      new_issues: maxNumber(r.newIssues, current?.new_issues),
      url: r.url ?? current?.url ?? null,
    },
    current,
  );
}

async function applyDeploy(db: MemoryDatabase, workspaceId: string, r: DeployRecord): Promise<void> {
  await upsert(db, 'deploys', ['workspace_id', 'id'], {
    workspace_id: workspaceId,
    id: r.id,
    release: r.release,
    environment: r.environment,
    name: r.name,
    url: r.url,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    projects: toJson([...r.projects].sort()),
  });
}

async function applyCommit(db: MemoryDatabase, workspaceId: string, r: CommitRecord): Promise<void> {
  await db.lock(`commit:${workspaceId}:${r.release}:${r.id}`);
  const current = await storedRow(db, 'commits', { workspace_id: workspaceId, release: r.release, id: r.id });
  await upsert(
    db,
    'commits',
    ['workspace_id', 'release', 'id'],
    {
      workspace_id: workspaceId,
      id: r.id,
      release: r.release,
      message: r.message ?? current?.message ?? null,
      author_name: r.authorName ?? current?.author_name ?? null,
      author_email: r.authorEmail ?? current?.author_email ?? null,
      repository: r.repository ?? current?.repository ?? null,
      created_at: r.createdAt ?? current?.created_at ?? null,
      files: r.files ? toJson(r.files) : (current?.files ?? null),
    },
    current,
  );
}

async function applyConnection(
  db: MemoryDatabase,
  workspaceId: string,
  source: string,
  r: ConnectionRecord,
): Promise<void> {
  await db.lock(`connection:${workspaceId}:${source}:${r.externalId}`);
  const current = await storedRow(db, 'connections', { workspace_id: workspaceId, source, external_id: r.externalId });
  const version = versionOf(r.state);
  if (current && !isNewer(version, current.state_version)) return;
  await upsert(
    db,
    'connections',
    ['workspace_id', 'id'],
    {
      workspace_id: workspaceId,
      id: current?.id ?? `${source}:${r.externalId}`,
      source,
      external_id: r.externalId,
      org_slug: r.orgSlug ?? current?.org_slug ?? null,
      app_slug: r.appSlug ?? current?.app_slug ?? null,
      base_url: current?.base_url ?? null,
      auth_kind: current?.auth_kind ?? null,
      credentials: current?.credentials ?? null,
      state: r.state.value,
      state_version: version,
      updated_at: r.state.at,
    },
    current,
  );
}

async function applyObservation(db: MemoryDatabase, workspaceId: string, r: ObservationRecord): Promise<void> {
  await upsert(db, 'observations', ['workspace_id', 'id'], {
    workspace_id: workspaceId,
    id: r.id,
    type: r.type,
    occurred_at: r.occurredAt,
    subject_type: r.subject.type,
    subject_id: r.subject.id,
    issue_id: r.issueId,
    project_slug: r.projectSlug,
    release: r.release,
    environment: r.environment,
    summary: r.summary,
    data: r.data ? toJson(r.data) : null,
  });
  await indexObservation(db, workspaceId, r);
}
