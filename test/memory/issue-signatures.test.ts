import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { migrations as sqliteMigrations } from '../../src/memory/sqlite/migrations.js';
import { migrations as postgresMigrations } from '../../src/memory/postgres/migrations.js';
import type { IssueRecord, MemoryRecord } from '../../src/memory/records.js';
import { MemoryStore } from '../../src/memory/store.js';
import { createTestDatabase, rows, TEST_ENGINE, type TestDatabase } from '../helpers/database.js';

const ws = DEFAULT_WORKSPACE;
const now = '2026-11-01T00:00:00.000Z';
/** The last migration before issue signatures. */
const BEFORE_SIGNATURES = { sqlite: 11, postgres: 6 };

const frames = (file: string, fn: string, inApp = true) =>
  JSON.stringify([{ filename: file, function: fn, module: null, lineNo: 3, colNo: null, inApp }]);

/** Issues as a memory from before the signatures holds them: a pair alike, a look-alike, and a root cause. */
const issues = [
  ['1', 'TypeError', 'applyCoupon(src/lib/coupons)', frames('src/lib/coupons.ts', 'applyCoupon')],
  ['2', 'TypeError', 'applyCoupon(src/lib/coupons)', frames('src/lib/coupons.ts', 'applyCoupon')],
  ['3', 'TypeError', 'trackPageView(src/telemetry)', frames('src/telemetry.ts', 'trackPageView')],
  ['4', 'RangeError', 'formatAmount(src/lib/money)', frames('src/lib/coupons.ts', 'applyCoupon', false)],
];

async function storedBeforeSignatures(location: string): Promise<void> {
  const insertIssue = `INSERT INTO issues (workspace_id, id, short_id, error_type, culprit, top_frames, snapshot_at, status, last_seen)
                       VALUES (?, ?, ?, ?, ?, ?, ?, 'unresolved', ?)`;
  const insertInsight = `INSERT INTO insights (workspace_id, issue_id, run_id, stage, state, summary, details, at)
                         VALUES (?, ?, 'r', 'root_cause', 'completed', 'null coupon', ?, ?)`;
  const issueValues = issues.map(([id, type, culprit, top]) => [ws, id, `APP-${id}`, type, culprit, top, now, now]);
  const insightValues = [
    [ws, '3', JSON.stringify({ file: 'src/lib/pricing.ts' }), now],
    [ws, '4', JSON.stringify({ file: 'src/lib/pricing.ts' }), now],
  ];
  if (TEST_ENGINE === 'sqlite') {
    const raw = new BetterSqlite3(location);
    raw.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of sqliteMigrations.filter((m) => m.id <= BEFORE_SIGNATURES.sqlite)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.id, m.name, now);
    }
    for (const values of issueValues) raw.prepare(insertIssue).run(...values);
    for (const values of insightValues) raw.prepare(insertInsight).run(...values);
    raw.close();
    return;
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE schema_migrations (id integer PRIMARY KEY, name text COLLATE "C" NOT NULL, applied_at text COLLATE "C" NOT NULL)',
    );
    for (const m of postgresMigrations.filter((m) => m.id <= BEFORE_SIGNATURES.postgres)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.id, m.name, now]);
    }
    const numbered = (text: string) => {
      let n = 0;
      return text.replace(/\?/g, () => `$${++n}`);
    };
    for (const values of issueValues) await client.query(numbered(insertIssue), values);
    for (const values of insightValues) await client.query(numbered(insertInsight), values);
  } finally {
    await client.end();
  }
}

const reasonsOf = async (store: MemoryStore, id: string) =>
  Object.fromEntries(((await store.relatedIssues(ws, id))?.related ?? []).map((r) => [r.id, r.reasons]));

describe('issue signatures', () => {
  let database: TestDatabase;
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await database.cleanup();
  });

  it('are filled from the issues and root causes a memory stored before they existed', async () => {
    database = await createTestDatabase();
    await storedBeforeSignatures(database.location);
    store = await MemoryStore.open(database.location);
    expect(await reasonsOf(store, '1')).toEqual({ '2': ['type_culprit', 'frame'] });
    // Issue 4's top frame is not in-app: only Seer's file relates it.
    expect(await reasonsOf(store, '4')).toEqual({ '3': ['seer_file'] });
    expect(await store.relatedIssues(ws, 'APP-99')).toBeNull();
  });

  it('follow an issue whose culprit and frames change, and keep the grouping keys of its events', async () => {
    database = await createTestDatabase();
    store = await MemoryStore.open(database.location);
    const issue = (id: string, culprit: string, at: string): IssueRecord => ({
      kind: 'issue',
      id,
      observedAt: at,
      shortId: `APP-${id}`,
      errorType: 'TypeError',
      culprit,
    });
    const event = (id: string, issueId: string, fingerprint: string[] | null): MemoryRecord => ({
      kind: 'event',
      id,
      issueId,
      projectId: null,
      title: null,
      message: null,
      culprit: null,
      level: null,
      platform: null,
      release: null,
      environment: null,
      errorType: null,
      errorValue: null,
      occurredAt: now,
      url: null,
      tags: {},
      topFrames: [],
      fingerprint,
    });
    await store.apply(ws, 'sentry', [
      issue('1', 'a.ts in f', now),
      issue('2', 'a.ts in f', now),
      issue('3', 'b.ts in g', now),
      event('e1', '1', ['hash:aa']),
      event('e3', '3', ['hash:aa', 'hash:bb']),
    ]);
    expect(await reasonsOf(store, '1')).toEqual({ '2': ['type_culprit'], '3': ['fingerprint'] });
    // A later snapshot moves issue 2's culprit: it no longer matches issue 1's.
    await store.apply(ws, 'sentry', [issue('2', 'c.ts in h', '2026-11-02T00:00:00.000Z')]);
    expect(await reasonsOf(store, '1')).toEqual({ '3': ['fingerprint'] });
    const stored = await rows<{ kind: string; value: string }>(
      store.db,
      `SELECT kind, value FROM issue_signatures WHERE workspace_id = ? AND issue_id = ? ORDER BY kind, value`,
      ws,
      '2',
    );
    expect(stored).toEqual([{ kind: 'type_culprit', value: 'TypeError|c.ts in h' }]);
  });
});
