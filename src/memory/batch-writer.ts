import { sql, type Insertable } from 'kysely';
import { keyIn, type MemoryDatabase } from './database.js';
import { EventCounts, fillProjects, latestSnapshots } from './event-counts.js';
import { commentHistoryRows, insertHistory, issueHistoryRows, type HistoryRow } from './history.js';
import { TagCounts } from './issue-tags.js';
import {
  deployRow,
  eventRow,
  isNewerEvent,
  keysOf,
  memberRow,
  mergeAlert,
  mergeComment,
  mergeCommit,
  mergeInsight,
  mergeIssue,
  mergeRelease,
  observationRow,
  projectRow,
  teamRow,
  type Row,
} from './merge.js';
import type { MemoryRecord, MemoryRecordKind } from './records.js';
import type { Database } from './schema.js';
import { indexObservations, searchDocOf, type SearchDocRow } from './search-index.js';
import { OWN_KINDS, addSignatures, ownSignatures, sameSignatures, signatureRows } from './signatures.js';
import type { IssueSignatureTable } from './schema.js';
import { applyRecords, upsertProjects } from './writer.js';

/** One delivery's records, to be applied together or not at all. */
export interface BatchUnit {
  workspaceId: string;
  source: string;
  records: readonly MemoryRecord[];
}

/**
 * What the batch folds. A source's snapshots of counts (tags, stats) replace stored rows, and a
 * connection's state decides how later deliveries are processed: a unit with one of those goes
 * through applyRecords alone, in its place in the order.
 */
const FOLDED: ReadonlySet<MemoryRecordKind> = new Set<MemoryRecordKind>([
  'issue',
  'event',
  'comment',
  'alert',
  'insight',
  'project',
  'release',
  'deploy',
  'commit',
  'team',
  'member',
  'environment',
  'observation',
]);

export function foldable(unit: BatchUnit): boolean {
  return unit.records.every((record) => FOLDED.has(record.kind));
}

/**
 * Applies many deliveries' records at once, by the same merge rules as applyRecords and with the same
 * result as applying them one after another in the order given: every row a unit merges into is read
 * in one statement per table, the records are folded in memory in order, and each table is written
 * with one statement. The merge keys of all units are tried in one statement; a unit whose key another
 * transaction holds is not applied (`false`): it is left for a later batch instead of waited for.
 * Call inside a transaction, with foldable units only.
 */
export async function applyBatch(db: MemoryDatabase, units: readonly BatchUnit[]): Promise<boolean[]> {
  const keys = units.map((u) => [...new Set(u.records.flatMap((r) => keysOf(u.workspaceId, u.source, r)))]);
  const held = await db.tryLocks([...new Set(keys.flat())].sort());
  const applied = keys.map((unitKeys) => unitKeys.every((key) => held.has(key)));
  const work = units.filter((_, i) => applied[i]);
  if (work.length) {
    const fold = await Fold.load(db, work);
    for (const unit of work) for (const record of unit.records) fold.apply(unit.workspaceId, record);
    await fold.write(db);
  }
  return applied;
}

const k = (...parts: string[]) => parts.join('\u0000');

/** Rows as read (`stored`) and as the fold has made them so far (`current`), by key. */
class Rows<T> {
  readonly stored = new Map<string, T>();
  readonly current = new Map<string, T>();

  get(key: string): T | undefined {
    return this.current.get(key) ?? this.stored.get(key);
  }

  set(key: string, row: T): void {
    this.current.set(key, row);
  }

  /** The rows the fold changed. */
  changed(): T[] {
    return [...this.current].filter(([key, row]) => !sameRow(row, this.stored.get(key))).map(([, row]) => row);
  }
}

function sameRow(a: unknown, b: unknown): boolean {
  if (!b) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  return Object.keys(x).every((column) => x[column] === y[column]);
}

/** A newly seen event, as its counts need it: where it falls, its tags, and its issue's project then. */
interface NewEvent {
  workspaceId: string;
  id: string;
  issueId: string | null;
  occurredAt: string;
  tags: Record<string, string>;
  project: string | null;
}

class Fold {
  private readonly issues = new Rows<Row<'issues'>>();
  private readonly comments = new Rows<Row<'comments'>>();
  private readonly alerts = new Rows<Row<'alerts'>>();
  private readonly insights = new Rows<Row<'insights'>>();
  private readonly releases = new Rows<Row<'releases'>>();
  private readonly commits = new Rows<Row<'commits'>>();
  /** Per issue, its newest event with frames: stored, or folded since. */
  private readonly frames = new Map<string, { occurredAt: string; id: string; frames: string }>();
  private readonly events = new Map<string, Row<'events'>>();
  private readonly newEvents: NewEvent[] = [];
  private readonly plain = {
    deploys: new Map<string, Row<'deploys'>>(),
    teams: new Map<string, Row<'teams'>>(),
    members: new Map<string, Row<'members'>>(),
    environments: new Map<string, Row<'environments'>>(),
    observations: new Map<string, Row<'observations'>>(),
  };
  private readonly projects = new Map<string, Row<'projects'>>();
  /**
   * Projects and environments as stored: named by nearly every delivery and rarely changed, they are
   * written only when they would change, since an upsert locks the row it meets until commit, and
   * every worker's batch would then wait for the others' on the same project.
   */
  private readonly storedProjects = new Map<string, Row<'projects'>>();
  private readonly storedEnvironments = new Set<string>();
  private readonly docs = new Map<string, SearchDocRow>();
  private readonly history = new Map<string, HistoryRow>();
  private readonly signatures = new Map<string, IssueSignatureTable>();

  private constructor(
    private readonly tags: TagCounts,
    private readonly snapshots: Awaited<ReturnType<typeof latestSnapshots>>,
  ) {}

  /** Reads every row the units merge into: one statement per table. */
  static async load(db: MemoryDatabase, units: readonly BatchUnit[]): Promise<Fold> {
    const want = {
      issues: new Map<string, [string, string]>(),
      frames: new Map<string, [string, string]>(),
      counted: new Map<string, [string, string]>(),
      tagged: new Map<string, [string, string]>(),
      comments: new Map<string, [string, string]>(),
      alerts: new Map<string, [string, string]>(),
      insights: new Map<string, [string, string, string, string]>(),
      releases: new Map<string, [string, string]>(),
      commits: new Map<string, [string, string, string]>(),
      projects: new Map<string, [string, string]>(),
      environments: new Map<string, [string, string]>(),
    };
    const add = <K extends string[]>(map: Map<string, K>, ...key: K) => map.set(k(...key), key);
    for (const { workspaceId: ws, records } of units)
      for (const r of records) {
        if (r.kind === 'issue') {
          add(want.issues, ws, r.id);
          if (r.topFrames?.length) add(want.frames, ws, r.id);
        } else if (r.kind === 'event' && r.issueId !== null) {
          add(want.issues, ws, r.issueId);
          add(want.counted, ws, r.issueId);
          if (Object.keys(r.tags).length) add(want.tagged, ws, r.issueId);
        } else if (r.kind === 'comment') add(want.comments, ws, r.id);
        else if (r.kind === 'alert') add(want.alerts, ws, r.id);
        else if (r.kind === 'insight') add(want.insights, ws, r.issueId, r.runId, r.stage);
        else if (r.kind === 'release') add(want.releases, ws, r.version);
        else if (r.kind === 'commit') add(want.commits, ws, r.release, r.id);
        else if (r.kind === 'project') add(want.projects, ws, r.id);
        else if (r.kind === 'environment') add(want.environments, ws, r.name);
      }
    const read = <T extends keyof Database>(table: T, columns: string[], keys: Map<string, string[]>) =>
      keys.size
        ? db.all(
            db.qb
              .selectFrom(table as 'issues')
              .selectAll()
              .where(keyIn(columns, [...keys.values()])),
          )
        : Promise.resolve([]);
    const [issues, frames, comments, alerts, insights, releases, commits, projects, environments, tags, snapshots] =
      await Promise.all([
        read('issues', ['workspace_id', 'id'], want.issues),
        newestFrames(db, [...want.frames.values()]),
        read('comments', ['workspace_id', 'id'], want.comments),
        read('alerts', ['workspace_id', 'id'], want.alerts),
        read('insights', ['workspace_id', 'issue_id', 'run_id', 'stage'], want.insights),
        read('releases', ['workspace_id', 'version'], want.releases),
        read('commits', ['workspace_id', 'release', 'id'], want.commits),
        read('projects', ['workspace_id', 'id'], want.projects),
        read('environments', ['workspace_id', 'name'], want.environments),
        TagCounts.load(db, [...want.tagged.values()]),
        latestSnapshots(db, [...want.counted.values()]),
      ]);
    const fold = new Fold(tags, snapshots);
    for (const row of issues) fold.issues.stored.set(k(row.workspace_id, row.id), row);
    for (const row of comments as unknown as Row<'comments'>[])
      fold.comments.stored.set(k(row.workspace_id, row.id), row);
    for (const row of alerts as unknown as Row<'alerts'>[]) fold.alerts.stored.set(k(row.workspace_id, row.id), row);
    for (const row of insights as unknown as Row<'insights'>[])
      fold.insights.stored.set(k(row.workspace_id, row.issue_id, row.run_id, row.stage), row);
    for (const row of releases as unknown as Row<'releases'>[])
      fold.releases.stored.set(k(row.workspace_id, row.version), row);
    for (const row of commits as unknown as Row<'commits'>[])
      fold.commits.stored.set(k(row.workspace_id, row.release, row.id), row);
    for (const row of projects as unknown as Row<'projects'>[])
      fold.storedProjects.set(k(row.workspace_id, row.id), row);
    for (const row of environments as unknown as Row<'environments'>[])
      fold.storedEnvironments.add(k(row.workspace_id, row.name));
    for (const row of frames)
      fold.frames.set(k(row.workspace_id, row.issue_id!), {
        occurredAt: row.occurred_at,
        id: row.id,
        frames: row.top_frames,
      });
    return fold;
  }

  apply(ws: string, r: MemoryRecord): void {
    switch (r.kind) {
      case 'issue': {
        const key = k(ws, r.id);
        const current = this.issues.get(key);
        this.addHistory(issueHistoryRows(ws, r, current));
        this.issues.set(
          key,
          mergeIssue(ws, r, current, r.topFrames?.length ? this.frames.get(key)?.frames : undefined),
        );
        break;
      }
      case 'event': {
        const row = eventRow(ws, r);
        if (r.issueId !== null) {
          const issue = k(ws, r.issueId);
          if (r.fingerprint?.length) this.addSignatures(signatureRows(ws, r.issueId, 'fingerprint', r.fingerprint));
          const newest = this.frames.get(issue);
          if (r.topFrames.length && (!newest || isNewerEvent(r, newest)))
            this.frames.set(issue, { occurredAt: r.occurredAt, id: r.id, frames: row.top_frames });
        }
        const key = k(ws, r.id);
        if (!this.events.has(key))
          this.newEvents.push({
            workspaceId: ws,
            id: r.id,
            issueId: r.issueId,
            occurredAt: r.occurredAt,
            tags: r.tags,
            project: r.issueId === null ? null : (this.issues.get(k(ws, r.issueId))?.project_slug ?? null),
          });
        this.events.set(key, row);
        break;
      }
      case 'comment': {
        const key = k(ws, r.id);
        const current = this.comments.get(key);
        this.addHistory(commentHistoryRows(ws, r, current?.version));
        this.comments.set(key, mergeComment(ws, r, current));
        break;
      }
      case 'alert': {
        const key = k(ws, r.id);
        this.alerts.set(key, mergeAlert(ws, r, this.alerts.get(key)));
        break;
      }
      case 'insight': {
        const key = k(ws, r.issueId, r.runId, r.stage);
        if (r.files?.length) this.addSignatures(signatureRows(ws, r.issueId, 'seer_file', r.files));
        const row = mergeInsight(ws, r, this.insights.get(key));
        if (row) this.insights.set(key, row);
        break;
      }
      case 'project': {
        // The batch's own records of a project meet here as the upsert meets what is stored (upsertProjects).
        const key = k(ws, r.id);
        const row = projectRow(ws, r);
        const before = this.projects.get(key);
        this.projects.set(
          key,
          before
            ? {
                ...row,
                slug: row.slug ?? before.slug,
                name: row.name ?? before.name,
                platform: row.platform ?? before.platform,
              }
            : row,
        );
        break;
      }
      case 'release': {
        const key = k(ws, r.version);
        this.releases.set(key, mergeRelease(ws, r, this.releases.get(key)));
        break;
      }
      case 'commit': {
        const key = k(ws, r.release, r.id);
        this.commits.set(key, mergeCommit(ws, r, this.commits.get(key)));
        break;
      }
      case 'deploy':
        this.plain.deploys.set(k(ws, r.id), deployRow(ws, r));
        break;
      case 'team':
        this.plain.teams.set(k(ws, r.id), teamRow(ws, r));
        break;
      case 'member':
        this.plain.members.set(k(ws, r.id), memberRow(ws, r));
        break;
      case 'environment':
        this.plain.environments.set(k(ws, r.name), { workspace_id: ws, name: r.name });
        break;
      case 'observation':
        this.plain.observations.set(k(ws, r.id), observationRow(ws, r));
        this.docs.set(k(ws, r.id), searchDocOf(ws, r));
        break;
      default:
        throw new Error(`a ${r.kind} record cannot be folded into a batch`);
    }
  }

  /** The batch's projects that would change what is stored (upsertProjects' merge: known values win). */
  private changedProjects(): Row<'projects'>[] {
    return [...this.projects]
      .filter(([key, row]) => {
        const stored = this.storedProjects.get(key);
        return (
          !stored ||
          (['slug', 'name', 'platform'] as const).some((column) => (row[column] ?? stored[column]) !== stored[column])
        );
      })
      .map(([, row]) => row);
  }

  private addHistory(rows: HistoryRow[]): void {
    for (const row of rows) this.history.set(k(row.issue_id, row.field, row.ref, row.version, row.workspace_id), row);
  }

  private addSignatures(rows: IssueSignatureTable[]): void {
    for (const row of rows) this.signatures.set(k(row.workspace_id, row.kind, row.value, row.issue_id), row);
  }

  /** One statement per table (per chunk of rows), events first: only the events inserted now are counted. */
  async write(db: MemoryDatabase): Promise<void> {
    const inserted = await insertNewEvents(db, [...this.events.values()]);
    const counts = new EventCounts();
    for (const event of this.newEvents) {
      if (event.issueId === null || !inserted.has(k(event.workspaceId, event.id))) continue;
      if (Object.keys(event.tags).length)
        this.tags.addEvent(event.workspaceId, event.issueId, event.occurredAt, event.tags);
      counts.addEvent(this.snapshots, event.workspaceId, event.issueId, event.project, event.occurredAt);
    }
    const existing = [...this.events].filter(([key]) => !inserted.has(key)).map(([, row]) => row);
    // An issue's own signatures follow its final row: replaced where the batch changed them.
    const resigned: [string, string][] = [];
    for (const [key, issue] of this.issues.current) {
      const before = this.issues.stored.get(key);
      const next = ownSignatures(issue);
      if (before && sameSignatures(ownSignatures(before), next)) continue;
      if (before && ownSignatures(before).length) resigned.push([issue.workspace_id, issue.id]);
      for (const [kind, value] of next) this.addSignatures(signatureRows(issue.workspace_id, issue.id, kind, [value]));
    }
    const learned = [...this.issues.current]
      .filter(([key, row]) => row.project_slug !== null && this.issues.stored.get(key)?.project_slug == null)
      .map(([, row]) => [row.workspace_id, row.id, row.project_slug!] as const);
    if (resigned.length)
      await db.run(
        db.qb
          .deleteFrom('issue_signatures')
          .where(keyIn(['workspace_id', 'issue_id'], resigned))
          .where('kind', 'in', OWN_KINDS),
      );
    await Promise.all([
      upsertAll(db, 'events', ['workspace_id', 'id'], existing),
      this.tags.write(db),
      counts.write(db).then(() => chunked(learned, 3, (issues) => fillProjects(db, issues))),
      chunked([...this.history.values()], 7, (rows) => insertHistory(db, rows)),
      chunked([...this.signatures.values()].sort(bySignatureKey), 4, (rows) => addSignatures(db, rows)),
      upsertAll(db, 'issues', ['workspace_id', 'id'], this.issues.changed()),
      upsertAll(db, 'comments', ['workspace_id', 'id'], this.comments.changed()),
      upsertAll(db, 'alerts', ['workspace_id', 'id'], this.alerts.changed()),
      upsertAll(db, 'insights', ['workspace_id', 'issue_id', 'run_id', 'stage'], this.insights.changed()),
      upsertAll(db, 'releases', ['workspace_id', 'version'], this.releases.changed()),
      upsertAll(db, 'commits', ['workspace_id', 'release', 'id'], this.commits.changed()),
      upsertAll(db, 'deploys', ['workspace_id', 'id'], [...this.plain.deploys.values()]),
      upsertAll(db, 'teams', ['workspace_id', 'id'], [...this.plain.teams.values()]),
      upsertAll(db, 'members', ['workspace_id', 'id'], [...this.plain.members.values()]),
      upsertAll(
        db,
        'environments',
        ['workspace_id', 'name'],
        [...this.plain.environments].filter(([key]) => !this.storedEnvironments.has(key)).map(([, row]) => row),
      ),
      upsertAll(db, 'observations', ['workspace_id', 'id'], [...this.plain.observations.values()]),
      chunked(this.changedProjects(), 5, (rows) => upsertProjects(db, rows)),
      chunked([...this.docs.values()], 8, (rows) => indexObservations(db, rows)),
    ]);
  }
}

const bySignatureKey = (a: IssueSignatureTable, b: IssueSignatureTable) =>
  k(a.kind, a.value, a.issue_id, a.workspace_id) < k(b.kind, b.value, b.issue_id, b.workspace_id) ? -1 : 1;

/** Parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535). */
const PARAMETERS = 30_000;

/** `write` over `rows` in chunks that stay under the engines' parameter limits, one after another. */
async function chunked<T>(rows: readonly T[], columns: number, write: (rows: T[]) => Promise<void>): Promise<void> {
  const size = Math.max(1, Math.floor(PARAMETERS / columns));
  for (let start = 0; start < rows.length; start += size) await write(rows.slice(start, start + size));
}

/** Inserts `rows` (distinct keys), or updates every other column of the stored row with the key. */
function upsertAll<T extends keyof Database>(
  db: MemoryDatabase,
  table: T,
  keys: readonly string[],
  rows: readonly Row<T>[],
): Promise<void> {
  if (!rows.length) return Promise.resolve();
  const columns = Object.keys(rows[0] as object);
  const updates = columns.filter((column) => !keys.includes(column));
  return chunked(rows, columns.length, async (chunk) => {
    /* eslint-disable @typescript-eslint/no-explicit-any -- a table chosen at run time; the rows are typed */
    await db.run(
      db.qb
        .insertInto(table)
        .values(chunk as any)
        .onConflict((oc) =>
          updates.length
            ? oc
                .columns(keys as any)
                .doUpdateSet(
                  Object.fromEntries(updates.map((column) => [column, sql.ref(`excluded.${column}`)])) as any,
                )
            : oc.doNothing(),
        ),
    );
    /* eslint-enable @typescript-eslint/no-explicit-any */
  });
}

/** Inserts the events not stored yet; which keys it inserted. */
async function insertNewEvents(db: MemoryDatabase, rows: readonly Row<'events'>[]) {
  const inserted = new Set<string>();
  await chunked(rows, 17, async (chunk) => {
    const returned = await db.all(
      db.qb
        .insertInto('events')
        .values(chunk as Insertable<Database['events']>[])
        .onConflict((oc) => oc.doNothing())
        .returning(['workspace_id', 'id']),
    );
    for (const row of returned) inserted.add(k(row.workspace_id, row.id));
  });
  return inserted;
}

/** Each issue's newest stored event that has frames (ties by event id), for the issues in `keys` ([workspace, issue]). */
function newestFrames(db: MemoryDatabase, keys: readonly [string, string][]) {
  if (!keys.length) return Promise.resolve([]);
  const wanted = sql.join(keys.map(([ws, id]) => sql`(${ws}, ${id})`));
  // A subquery per issue that walks its events newest first (events_issue), not all of them.
  const newest = sql`SELECT w.column1, (SELECT e.id FROM events e WHERE e.workspace_id = w.column1 AND e.issue_id = w.column2 AND e.top_frames <> ${'[]'} ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) FROM (VALUES ${wanted}) AS w`;
  return db.all(
    db.qb
      .selectFrom('events')
      .select(['workspace_id', 'issue_id', 'id', 'occurred_at', 'top_frames'])
      .where(sql<boolean>`(workspace_id, id) IN (${newest})`),
  );
}

/** The issue a record belongs to, if any: records of different issues merge independently. */
function issueOf(record: MemoryRecord): string | null {
  switch (record.kind) {
    case 'issue':
      return record.id;
    case 'event':
    case 'issue_tags':
    case 'issue_stats':
    case 'comment':
    case 'insight':
    case 'alert':
    case 'observation':
      return record.issueId;
    default:
      return null;
  }
}

/**
 * One source's records (a sync page), applied with the result of applyRecords: by applyBatch where
 * they fold, a source's snapshot of counts alone. Records of different issues are independent, so
 * the page goes in phases — what each issue has before its first snapshot, then the snapshots, then
 * what follows them — each issue's records staying in their order. When another transaction holds a
 * record's key, the page is applied by applyRecords, which waits for it. Call inside a transaction.
 */
export async function applyRecordsFolded(
  db: MemoryDatabase,
  workspaceId: string,
  source: string,
  records: readonly MemoryRecord[],
): Promise<void> {
  const phases: MemoryRecord[][] = [];
  const snapshotsSeen = new Map<string | null, number>();
  for (const record of records) {
    const issue = issueOf(record);
    const seen = snapshotsSeen.get(issue) ?? 0;
    const folds = FOLDED.has(record.kind);
    // Even phases fold; odd ones hold the records that go alone.
    const phase = 2 * seen + (folds ? 0 : 1);
    if (!folds) snapshotsSeen.set(issue, seen + 1);
    (phases[phase] ??= []).push(record);
  }
  await db
    .transaction(async (tx) => {
      for (const [i, phase] of phases.entries()) {
        if (!phase?.length) continue;
        if (i % 2) await applyRecords(tx, workspaceId, source, phase);
        else if (!(await applyBatch(tx, [{ workspaceId, source, records: phase }]))[0]) throw new KeyHeld();
      }
    })
    .catch(async (error: unknown) => {
      if (!(error instanceof KeyHeld)) throw error;
      await applyRecords(db, workspaceId, source, records);
    });
}

/** A merge key another transaction holds (see applyRecordsFolded). */
class KeyHeld extends Error {}
