import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, migrations } from '../../src/memory/postgres/migrations.js';
import { createTestDatabase, TEST_ENGINE, type TestDatabase } from '../helpers/database.js';

/**
 * Migration 10 keeps `agent_docs` and `issue_facets` with statement-level triggers in place of
 * migration 1's row-level ones. The same multi-row writes, on a database left at migration 9 and on
 * one fully migrated, must leave the same documents and facets after every statement, each
 * document re-indexed (given a fresh row id) by the same statements.
 */

const ROW_LEVEL = 9;
const FRAMES = JSON.stringify([{ function: 'renderCheckout', filename: 'app/components/CartButton.tsx' }]);
const OTHER_FRAMES = JSON.stringify([{ function: 'submitOrder', filename: 'app/api/orders.ts' }, 'not a frame']);

type Row = Record<string, unknown>;

/** One INSERT of `rows` (all with the same columns), updating every other column of a row whose key is already there, as batched writers do. */
function upsert(table: string, key: string[], rows: Row[]): [string, unknown[]] {
  const columns = Object.keys(rows[0]);
  const values: unknown[] = [];
  const tuples = rows.map((row) => `(${columns.map((c) => (values.push(row[c]), `$${values.length}`)).join(', ')})`);
  const set = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${set.join(', ')}`;
  return [sql, values];
}

const issue = (
  ws: string,
  id: string,
  title: string,
  firstSeen: string | null,
  lastSeen: string | null,
  more: Row = {},
) => ({
  workspace_id: ws,
  id,
  short_id: `WEB-${id}`,
  title,
  error_type: 'TypeError',
  message: null,
  culprit: 'checkout',
  project_slug: 'web',
  count: 1,
  first_seen: firstSeen,
  last_seen: lastSeen,
  top_frames: FRAMES,
  snapshot_at: 's1',
  ...more,
});
const comment = (
  ws: string,
  id: string,
  issueId: string,
  at: string,
  text: string | null,
  deleted: number,
  version: string,
) => ({
  workspace_id: ws,
  id,
  issue_id: issueId,
  created_at: at,
  text,
  deleted,
  version,
});
const insight = (issueId: string, run: string, stage: string, summary: string | null, at: string) => ({
  workspace_id: 'w1',
  issue_id: issueId,
  run_id: run,
  stage,
  state: 'completed',
  summary,
  at,
});
const alert = (id: string, title: string, description: string | null, issueId: string | null, state: string) => ({
  workspace_id: 'w1',
  id,
  source: 'issue_alert',
  rule_name: `Rule ${id}`,
  title,
  description,
  issue_id: issueId,
  projects: '["web"]',
  started_at: `2025-01-01T14:0${id.slice(1)}:00Z`,
  state,
  state_version: state,
});
const event = (ws: string, id: string, issueId: string | null, environment: string | null, release: string | null) => ({
  workspace_id: ws,
  id,
  issue_id: issueId,
  environment,
  release,
  occurred_at: '2025-01-01T10:00:00Z',
  tags: '[]',
  top_frames: '[]',
});

const KEY = ['workspace_id', 'id'];

/** Statements in order, most inserting and updating rows together, the updates changing text or not. */
const SCRIPT: [string, unknown[]][] = [
  // Rows out of activity order; two workspaces share an issue id; frames a list, missing, not a list.
  upsert('issues', KEY, [
    issue('w1', '1', 'Cannot read properties of undefined', '2025-01-01T09:00:00Z', '2025-01-01T10:05:00Z'),
    issue('w1', '2', 'Quota exceeded', '2025-01-01T08:00:00Z', null, { top_frames: null }),
    issue('w1', '3', 'Odd frames', null, null, { top_frames: '{"function": "x"}' }),
    issue('w2', '1', 'Timeout', '2025-01-01T07:00:00Z', '2025-01-01T11:00:00Z'),
  ]),
  // Issue 1: activity within the hour and counts (kept); 2: a new hour (re-indexed); 3: new title;
  // w2's 1: counts only (kept); 4: new.
  upsert('issues', KEY, [
    issue('w1', '1', 'Cannot read properties of undefined', '2025-01-01T09:00:00Z', '2025-01-01T10:59:00Z', {
      count: 40,
      snapshot_at: 's2',
    }),
    issue('w1', '4', 'Fresh failure', '2025-01-01T12:00:00Z', '2025-01-01T12:00:00Z'),
    issue('w1', '2', 'Quota exceeded', '2025-01-01T08:00:00Z', '2025-01-01T12:30:00Z', { top_frames: null }),
    issue('w1', '3', 'Odd frames again', null, null, { top_frames: '{"function": "x"}' }),
    issue('w2', '1', 'Timeout', '2025-01-01T07:00:00Z', '2025-01-01T11:00:00Z', { count: 9, snapshot_at: 's2' }),
  ]),
  // Nothing that is indexed changes.
  upsert('issues', KEY, [
    issue('w1', '1', 'Cannot read properties of undefined', '2025-01-01T09:00:00Z', '2025-01-01T10:59:30Z', {
      count: 41,
    }),
    issue('w1', '4', 'Fresh failure', '2025-01-01T12:00:00Z', '2025-01-01T12:01:00Z', { count: 2 }),
  ]),
  // A plain multi-row UPDATE: new frames for one issue, a first_seen for another, nothing for the rest.
  [
    `UPDATE issues SET top_frames = CASE id WHEN '1' THEN $1::jsonb ELSE top_frames END,
                       first_seen = CASE id WHEN '3' THEN '2025-01-01T06:00:00Z' ELSE first_seen END
      WHERE workspace_id = 'w1'`,
    [OTHER_FRAMES],
  ],
  upsert('comments', KEY, [
    comment('w1', 'c1', '1', '2025-01-01T12:00:00Z', 'Looks like a race in checkout', 0, 'v1'),
    comment('w1', 'c2', '1', '2025-01-01T11:00:00Z', 'gone already', 1, 'v1'),
    comment('w1', 'c3', '2', '2025-01-01T10:00:00Z', null, 0, 'v1'),
    comment('w1', 'c4', '2', '2025-01-01T09:00:00Z', 'Quota raised', 0, 'v1'),
    comment('w2', 'c1', '1', '2025-01-01T12:00:00Z', 'Same id, other workspace', 0, 'v1'),
  ]),
  // c1 new text; c2 restored; c3 a new version only; c4 deleted; w2's c1 a new version only; c5 new.
  upsert('comments', KEY, [
    comment('w1', 'c1', '1', '2025-01-01T12:00:00Z', 'Fixed by retrying the fetch', 0, 'v2'),
    comment('w1', 'c2', '1', '2025-01-01T11:00:00Z', 'gone already', 0, 'v2'),
    comment('w1', 'c3', '2', '2025-01-01T10:00:00Z', null, 0, 'v2'),
    comment('w1', 'c4', '2', '2025-01-01T09:00:00Z', 'Quota raised', 1, 'v2'),
    comment('w2', 'c1', '1', '2025-01-01T12:00:00Z', 'Same id, other workspace', 0, 'v2'),
    comment('w1', 'c5', '4', '2025-01-01T13:00:00Z', 'Seen on staging too', 0, 'v1'),
  ]),
  upsert(
    'insights',
    ['workspace_id', 'issue_id', 'run_id', 'stage'],
    [
      insight('1', 'r1', 'root_cause', 'The cart is empty when rendered', '2025-01-01T13:00:00Z'),
      insight('1', 'r1', 'solution', null, '2025-01-01T13:01:00Z'),
      insight('2', 'r1', 'root_cause', 'Quota too low', '2025-01-01T12:00:00Z'),
    ],
  ),
  // A summary changed, one appearing, one unchanged; one new without a summary, one with.
  upsert(
    'insights',
    ['workspace_id', 'issue_id', 'run_id', 'stage'],
    [
      insight('1', 'r1', 'root_cause', 'The cart is emptied before render', '2025-01-01T13:05:00Z'),
      insight('1', 'r1', 'solution', 'Guard the render', '2025-01-01T13:06:00Z'),
      insight('2', 'r1', 'root_cause', 'Quota too low', '2025-01-01T12:10:00Z'),
      insight('4', 'r2', 'root_cause', null, '2025-01-01T14:00:00Z'),
      insight('3', 'r3', 'root_cause', 'Frames are odd', '2025-01-01T09:00:00Z'),
    ],
  ),
  // A summary dropped: its document stays as it was.
  upsert(
    'insights',
    ['workspace_id', 'issue_id', 'run_id', 'stage'],
    [insight('2', 'r1', 'root_cause', null, '2025-01-01T12:20:00Z')],
  ),
  upsert('alerts', KEY, [
    alert('a1', 'Spike in TypeError', 'More than 100 events', '1', 'open'),
    alert('a2', 'Latency', null, null, 'open'),
  ]),
  // a1 resolved only (kept); a2 gets an issue; a3 new.
  upsert('alerts', KEY, [
    alert('a1', 'Spike in TypeError', 'More than 100 events', '1', 'resolved'),
    alert('a2', 'Latency', null, '2', 'open'),
    alert('a3', 'Quota alert', 'Quota used up', '2', 'open'),
  ]),
  upsert('alerts', KEY, [alert('a1', 'Spike in TypeError', 'Over 1000 events', '1', 'resolved')]),
  // The same facet twice in one statement; events without an issue, or without values.
  upsert('events', KEY, [
    event('w1', 'e1', '1', 'production', 'web@1.0.0'),
    event('w1', 'e2', '1', 'production', null),
    event('w1', 'e3', null, 'staging', 'web@1.0.1'),
    event('w2', 'e1', '1', null, null),
  ]),
  upsert('events', KEY, [
    event('w1', 'e2', '1', 'staging', null),
    event('w1', 'e3', '2', 'staging', 'web@1.0.1'),
    event('w1', 'e4', '4', 'production', 'web@1.0.2'),
  ]),
];

interface Doc {
  kind: string;
  ref_id: string;
  workspace_id: string;
  issue_id: string | null;
  occurred_at: string | null;
  words: string;
  /** The statement that last (re)indexed the document: the first whose sequence watermark covers its row id. */
  step: number;
  row_id: number;
}

interface Snapshot {
  docs: Doc[];
  facets: unknown[];
}

/** Runs SCRIPT on a new database migrated to `version` (all when undefined): its state after each statement. */
async function runScript(database: TestDatabase, version?: number): Promise<Snapshot[]> {
  const db = new pg.Client({ connectionString: database.location });
  await db.connect();
  try {
    if (version === undefined) await migratePostgres(db);
    else for (const m of migrations.filter((m) => m.id <= version)) await db.query(m.sql);
    const watermarks: number[] = [];
    const snapshots: Snapshot[] = [];
    for (const [text, values] of SCRIPT) {
      await db.query(text, values);
      const { rows } = await db.query<{ last: string }>(
        'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS last FROM agent_docs_row_id_seq',
      );
      watermarks.push(Number(rows[0].last));
      const docs = await db.query<Omit<Doc, 'step'>>(
        `SELECT kind, ref_id, workspace_id, issue_id, occurred_at, tsv::text AS words, row_id::int AS row_id
           FROM agent_docs ORDER BY row_id`,
      );
      const facets = await db.query('SELECT * FROM issue_facets ORDER BY workspace_id, facet, value, issue_id');
      snapshots.push({
        docs: docs.rows.map((d) => ({ ...d, step: watermarks.findIndex((w) => w >= d.row_id) })),
        facets: facets.rows,
      });
    }
    return snapshots;
  } finally {
    await db.end();
  }
}

/** A snapshot's documents without row ids, in a fixed order. */
const byStep = (docs: Doc[]) =>
  docs.map(({ row_id: _, ...doc }) => doc).sort((a, b) => a.step - b.step || key(a).localeCompare(key(b)));
const key = (d: Omit<Doc, 'row_id'>) => `${d.kind}|${d.workspace_id}|${d.ref_id}`;

describe.skipIf(TEST_ENGINE !== 'postgres')('search documents kept per statement (migration 10)', () => {
  const databases: TestDatabase[] = [];
  let rowLevel: Snapshot[];
  let statementLevel: Snapshot[];

  beforeAll(async () => {
    databases.push(await createTestDatabase('postgres'), await createTestDatabase('postgres'));
    rowLevel = await runScript(databases[0], ROW_LEVEL);
    statementLevel = await runScript(databases[1]);
  });

  afterAll(async () => {
    for (const database of databases) await database.cleanup();
  });

  it('leaves no row-level trigger, nor the functions they called', async () => {
    const db = new pg.Client({ connectionString: databases[1].location });
    await db.connect();
    try {
      const triggers = await db.query<{ name: string; per_row: boolean; transition: boolean }>(
        `SELECT tgname AS name, (tgtype & 1) = 1 AS per_row, tgnewtable IS NOT NULL AS transition
           FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname`,
      );
      expect(triggers.rows.length).toBeGreaterThanOrEqual(10);
      expect(triggers.rows.filter((t) => t.per_row || !t.transition)).toEqual([]);
      const functions = await db.query(
        `SELECT proname FROM pg_proc WHERE proname IN ('agent_doc_put', 'agent_index_issue', 'agent_index_comment',
           'agent_index_insight', 'agent_index_alert', 'issue_facets_from_event')`,
      );
      expect(functions.rows).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('leaves the same documents and facets as the row-level triggers after every statement', () => {
    expect(statementLevel.map((s) => s.facets)).toEqual(rowLevel.map((s) => s.facets));
    expect(statementLevel.map((s) => byStep(s.docs))).toEqual(rowLevel.map((s) => byStep(s.docs)));
  });

  it('re-indexes exactly on changed text or a new hour of activity', () => {
    const last = statementLevel.at(-1)!.docs;
    const step = (kind: string, ref: string, ws = 'w1') =>
      last.find((d) => d.kind === kind && d.ref_id === ref && d.workspace_id === ws)?.step;
    // Statement 0 inserted the issues; 1 moved issue 2 to a new hour and retitled 3; 3 changed 1's frames, 3's first_seen.
    expect([
      step('issue', '1'),
      step('issue', '2'),
      step('issue', '3'),
      step('issue', '4'),
      step('issue', '1', 'w2'),
    ]).toEqual([3, 1, 3, 1, 0]);
    expect(last.filter((d) => d.kind === 'comment').map((d) => [d.workspace_id, d.ref_id, d.step])).toEqual(
      expect.arrayContaining([
        ['w1', 'c1', 5],
        ['w1', 'c2', 5],
        ['w2', 'c1', 4],
        ['w1', 'c5', 5],
      ]),
    );
    expect(step('comment', 'c3')).toBeUndefined();
    expect(step('comment', 'c4')).toBeUndefined();
    expect([
      step('insight', '2:r1:root_cause'),
      step('insight', '1:r1:solution'),
      step('insight', '4:r2:root_cause'),
    ]).toEqual([6, 7, undefined]);
    expect([step('alert', 'a1'), step('alert', 'a2'), step('alert', 'a3')]).toEqual([11, 10, 10]);
  });

  it('orders row ids within a statement by activity, then reference; an upsert’s updated rows before its new ones', () => {
    const reindexed = (step: number) => statementLevel[step].docs.filter((d) => d.step === step).map(key);
    // No activity first: it is the least recent.
    expect(reindexed(0)).toEqual(['issue|w1|3', 'issue|w1|2', 'issue|w1|1', 'issue|w2|1']);
    // PostgreSQL fires an upsert's UPDATE statement trigger before its INSERT one.
    expect(reindexed(1)).toEqual(['issue|w1|3', 'issue|w1|2', 'issue|w1|4']);
    expect(reindexed(5)).toEqual(['comment|w1|c2', 'comment|w1|c1', 'comment|w1|c5']);
  });
});
