import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/memory/sqlite/migrations.js';
import { migratePostgres, migrations } from '../../src/memory/postgres/migrations.js';

/** A server where the test may create and drop a database of its own. */
const SERVER = process.env.SENTRY_MEMORY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function urlOf(database: string): string {
  const url = new URL(SERVER);
  url.pathname = `/${database}`;
  return url.toString();
}

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: SERVER, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const available = await reachable();
const skipped = `skipped: no PostgreSQL at ${SERVER} (set SENTRY_MEMORY_TEST_PG_URL to a server's URL)`;
if (!available) console.warn(`PostgreSQL migration tests ${skipped}`);
const title = available ? 'PostgreSQL migrations' : `PostgreSQL migrations (${skipped})`;

/**
 * The only primary keys and unique keys that do not start with workspace_id, and why each must be
 * global. Citus enforces a unique key only within a shard, so on a table distributed by workspace_id
 * every other key leads with it; these tables are reference tables (replicated to every node) or local.
 */
const GLOBAL_KEYS: Record<string, string> = {
  'workspaces (id)': 'the workspaces themselves: their id is the workspace id, and a reference table',
  'installation_workspaces (source, external_id)':
    'finds the workspace of a webhook’s installation before any workspace is known (reference table)',
  'api_keys (key_hash)': 'finds a request’s key, and so its workspace, by the key’s hash alone (reference table)',
  'schema_migrations (id)': 'bookkeeping of this database’s schema, not a workspace’s data (a plain local table)',
};
/** FTS5 tables and SQLite's own: PostgreSQL has tsvector columns instead. */
const SQLITE_ONLY = /^(search_fts|agent_fts|agent_fts_vocab)(_.*)?$|^fts_pending$|^sqlite_/;

describe.skipIf(!available)(title, () => {
  const database = `sm_mig_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;
  let db: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVER });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    db = new pg.Client({ connectionString: urlOf(database) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin?.end();
  });

  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await db.query<R>(text, values)).rows;

  it('applies each migration exactly once when several processes start at the same time', async () => {
    const clients = Array.from({ length: 4 }, () => new pg.Client({ connectionString: urlOf(database) }));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const results = await Promise.allSettled(clients.map((c) => migratePostgres(c)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      await migratePostgres(clients[0]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const rows = await query<{ id: number; name: string }>('SELECT id, name FROM schema_migrations ORDER BY id');
    expect(rows[0]).toEqual({ id: 1, name: 'initial' });
    // Every migration once, in order (ids may leave a gap for another branch's).
    expect(rows.map((r) => r.id)).toEqual(migrations.map((m) => m.id));
  });

  describe('on a migrated database', () => {
    beforeAll(() => migratePostgres(db));

    it('has the tables and columns of the SQLite schema, with compatible types and byte-order text', async () => {
      const sqlite = new BetterSqlite3(':memory:');
      runMigrations(sqlite);
      const expected = new Map<string, string>();
      const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      for (const table of tables.filter((t) => !SQLITE_ONLY.test(t))) {
        for (const c of sqlite.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as {
          name: string;
          type: string;
        }[]) {
          expected.set(`${table}.${c.name}`, c.type);
        }
      }
      sqlite.close();

      const columns = await query<{
        table_name: string;
        column_name: string;
        data_type: string;
        collation_name: string | null;
      }>(
        `SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name <> 'tsv'`,
      );
      const actual = new Map(
        columns.map((c) => [
          `${c.table_name}.${c.column_name}`,
          ['bigint', 'integer'].includes(c.data_type) ? 'INTEGER' : 'TEXT',
        ]),
      );
      expect(Object.fromEntries([...actual].sort())).toEqual(Object.fromEntries([...expected].sort()));
      expect(columns.filter((c) => c.data_type === 'text' && c.collation_name !== 'C')).toEqual([]);
    });

    it('keys every table of a workspace’s data by workspace_id first (ready to distribute on Citus)', async () => {
      // Every primary key, unique constraint and unique index, with its key columns in order.
      const keys = await query<{ table: string; index: string; kind: string; columns: string[] }>(`
        SELECT t.relname AS table, i.relname AS index,
               coalesce(c.contype::text, 'unique index') AS kind,
               array(SELECT pg_get_indexdef(x.indexrelid, k, true) FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) AS columns
          FROM pg_index x
          JOIN pg_class t ON t.oid = x.indrelid
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
          LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x')
         WHERE n.nspname = current_schema() AND (x.indisprimary OR x.indisunique OR c.oid IS NOT NULL)`);
      // Constraints name their index: none is missed by reading the indexes.
      const constraints = await query<{ name: string }>(
        `SELECT c.conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
          WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u', 'x')`,
      );
      expect(constraints.map((c) => c.name).sort()).toEqual(
        keys
          .filter((k) => k.kind !== 'unique index')
          .map((k) => k.index)
          .sort(),
      );
      expect(new Set(keys.map((k) => k.table)).size).toBeGreaterThan(25);
      const global = keys
        .filter((k) => k.columns[0] !== 'workspace_id')
        .map((k) => `${k.table} (${k.columns.join(', ')})`);
      expect(global.sort()).toEqual(Object.keys(GLOBAL_KEYS).sort());
    });

    describe('issue-level index', () => {
      const ws = 'ws1';
      const frames = JSON.stringify([
        { function: 'renderCheckout', filename: 'app/components/CartButton.tsx' },
        { function: null, filename: 'vendor.js' },
        'not a frame',
      ]);
      const issueDoc = async (id: string) =>
        (
          await query<{ row_id: number; issue_id: string; occurred_at: string; words: string }>(
            `SELECT row_id::int AS row_id, issue_id, occurred_at, tsv::text AS words FROM agent_docs WHERE workspace_id = $1 AND kind = 'issue' AND ref_id = $2`,
            [ws, id],
          )
        )[0];
      const matches = async (kind: string, ref: string, tsquery: string) =>
        (
          await query<{ hit: boolean }>(
            `SELECT tsv @@ to_tsquery('simple', $3) AS hit FROM agent_docs WHERE workspace_id = $1 AND kind = $4 AND ref_id = $2`,
            [ws, ref, tsquery, kind],
          )
        )[0]?.hit;

      beforeAll(async () => {
        await query(
          `INSERT INTO issues (workspace_id, id, short_id, title, error_type, message, culprit, project_slug, count, first_seen, last_seen, top_frames, snapshot_at)
           VALUES ($1, '1', 'WEB-APP-7', 'Cannot read properties of undefined', 'TypeError', 'reading map', 'checkout/cart in render', 'web-app', 1,
                   '2025-01-01T09:00:00Z', '2025-01-01T10:05:00Z', $2, '2025-01-01T10:06:00Z')`,
          [ws, frames],
        );
      });

      it('indexes an issue: short id and title weigh A, the rest (frames too, split at punctuation) B', async () => {
        const doc = await issueDoc('1');
        expect(doc).toMatchObject({ issue_id: '1', occurred_at: '2025-01-01T10:05:00Z' });
        for (const word of ['web', '7', 'cannot', 'undefined'])
          expect(await matches('issue', '1', `${word}:A`)).toBe(true);
        for (const word of [
          'typeerror',
          'map',
          'checkout',
          'cart',
          'render',
          'rendercheckout',
          'cartbutton',
          'tsx',
          'vendor',
          'app',
        ])
          expect(await matches('issue', '1', `${word}:B`), word).toBe(true);
        expect(await matches('issue', '1', 'typeerror:A')).toBe(false);
        expect(
          (
            await query<{ hit: boolean }>(
              `SELECT count(*) = 1 AS hit FROM agent_docs WHERE tsv @@ plainto_tsquery('simple', 'CartButton render')`,
            )
          )[0].hit,
        ).toBe(true);
      });

      it('keeps the row id for activity within the hour and counts; a new hour or new text takes a newer one', async () => {
        const first = (await issueDoc('1')).row_id;
        await query(
          `UPDATE issues SET count = 40, user_count = 3, last_seen = '2025-01-01T10:59:00Z', snapshot_at = '2025-01-01T11:00:00Z' WHERE workspace_id = $1 AND id = '1'`,
          [ws],
        );
        expect(await issueDoc('1')).toMatchObject({ row_id: first, occurred_at: '2025-01-01T10:05:00Z' });

        await query(`UPDATE issues SET title = 'Cannot read properties of null' WHERE workspace_id = $1 AND id = '1'`, [
          ws,
        ]);
        const retitled = await issueDoc('1');
        expect(retitled.row_id).toBeGreaterThan(first);
        expect(await matches('issue', '1', 'null:A')).toBe(true);
        expect(await matches('issue', '1', 'undefined')).toBe(false);

        await query(`UPDATE issues SET last_seen = '2025-01-01T11:01:00Z' WHERE workspace_id = $1 AND id = '1'`, [ws]);
        expect(await issueDoc('1')).toMatchObject({ occurred_at: '2025-01-01T11:01:00Z' });
        expect((await issueDoc('1')).row_id).toBeGreaterThan(retitled.row_id);
        expect(await query(`SELECT 1 FROM agent_docs WHERE workspace_id = $1 AND kind = 'issue'`, [ws])).toHaveLength(
          1,
        );
      });

      it('indexes issues without frames, or with frames that are not a list', async () => {
        await query(
          `INSERT INTO issues (workspace_id, id, title, first_seen, top_frames, snapshot_at) VALUES
             ($1, '2', 'Quota exceeded', '2025-01-02T00:00:00Z', NULL, '2025-01-02T00:00:00Z'),
             ($1, '3', 'Odd frames', NULL, '{"function": "x"}', '2025-01-02T00:00:00Z')`,
          [ws],
        );
        expect(await issueDoc('2')).toMatchObject({ occurred_at: '2025-01-02T00:00:00Z' });
        expect(await matches('issue', '2', 'quota:A & exceeded:A')).toBe(true);
        expect(await issueDoc('3')).toMatchObject({ occurred_at: null });
        expect(await matches('issue', '3', 'odd:A')).toBe(true);
      });

      it('indexes comments while they have text and are not deleted', async () => {
        const comment = async () =>
          (
            await query<{ row_id: number }>(
              `SELECT row_id::int AS row_id FROM agent_docs WHERE workspace_id = $1 AND kind = 'comment' AND ref_id = 'c1'`,
              [ws],
            )
          )[0];
        await query(
          `INSERT INTO comments (workspace_id, id, issue_id, created_at, text, version) VALUES ($1, 'c1', '1', '2025-01-01T12:00:00Z', 'Looks like a race in checkout', 'v1')`,
          [ws],
        );
        const first = await comment();
        expect(await matches('comment', 'c1', 'race:B')).toBe(true);

        await query(
          `UPDATE comments SET text = 'Fixed by retrying the fetch', version = 'v2' WHERE workspace_id = $1 AND id = 'c1'`,
          [ws],
        );
        expect((await comment()).row_id).toBeGreaterThan(first.row_id);
        expect(await matches('comment', 'c1', 'retrying')).toBe(true);
        expect(await matches('comment', 'c1', 'race')).toBe(false);

        await query(`UPDATE comments SET deleted = 1, version = 'v3' WHERE workspace_id = $1 AND id = 'c1'`, [ws]);
        expect(await comment()).toBeUndefined();
        await query(
          `INSERT INTO comments (workspace_id, id, issue_id, text, deleted, version) VALUES ($1, 'c2', '1', 'gone', 1, 'v1')`,
          [ws],
        );
        expect(await query(`SELECT 1 FROM agent_docs WHERE workspace_id = $1 AND kind = 'comment'`, [ws])).toEqual([]);
      });

      it('indexes Seer insights with a summary, and alerts', async () => {
        await query(
          `INSERT INTO insights (workspace_id, issue_id, run_id, stage, state, summary, details, at) VALUES
             ($1, '1', 'r1', 'root_cause', 'completed', 'The cart is empty when rendered', '{"steps": []}', '2025-01-01T13:00:00Z'),
             ($1, '1', 'r1', 'solution', 'started', NULL, NULL, '2025-01-01T13:01:00Z')`,
          [ws],
        );
        expect(
          await query(
            `SELECT ref_id, issue_id, occurred_at FROM agent_docs WHERE workspace_id = $1 AND kind = 'insight'`,
            [ws],
          ),
        ).toEqual([{ ref_id: '1:r1:root_cause', issue_id: '1', occurred_at: '2025-01-01T13:00:00Z' }]);
        expect(await matches('insight', '1:r1:root_cause', 'root:A & cause:A & empty:B')).toBe(true);

        await query(
          `INSERT INTO alerts (workspace_id, id, source, rule_name, title, description, issue_id, projects, started_at, state, state_version)
           VALUES ($1, 'a1', 'issue_alert', 'Checkout errors', 'Spike in TypeError', 'More than 100 events', '1', '["web-app"]', '2025-01-01T14:00:00Z', 'open', 'v1')`,
          [ws],
        );
        expect(await matches('alert', 'a1', 'spike:A & checkout:B & events:B')).toBe(true);
      });

      it('records the environments and releases an issue was seen in, once each', async () => {
        const event = (id: string, issue: string | null, environment: string | null, release: string | null) =>
          query(
            `INSERT INTO events (workspace_id, id, issue_id, environment, release, occurred_at, tags, top_frames) VALUES ($1, $2, $3, $4, $5, '2025-01-01T10:00:00Z', '[]', '[]')
             ON CONFLICT (workspace_id, id) DO UPDATE SET environment = excluded.environment, release = excluded.release`,
            [ws, id, issue, environment, release],
          );
        await event('e1', '1', 'production', 'web@1.0.0');
        await event('e1', '1', 'production', 'web@1.0.0');
        await event('e2', '1', 'production', null);
        await event('e3', null, 'staging', 'web@1.0.1');
        await event('e2', '1', 'staging', null);
        expect(
          await query(`SELECT facet, value, issue_id FROM issue_facets WHERE workspace_id = $1 ORDER BY facet, value`, [
            ws,
          ]),
        ).toEqual([
          { facet: 'environment', value: 'production', issue_id: '1' },
          { facet: 'environment', value: 'staging', issue_id: '1' },
          { facet: 'release', value: 'web@1.0.0', issue_id: '1' },
        ]);
      });

      it('indexes timeline entries through a generated column', async () => {
        await query(
          `INSERT INTO search_docs (workspace_id, kind, ref_id, title, body) VALUES ($1, 'observation', 'o1', 'Deploy of web@1.0.0 to production', '')`,
          [ws],
        );
        expect(
          await query(`SELECT ref_id FROM search_docs WHERE tsv @@ to_tsquery('simple', 'deploy:A & production:A')`),
        ).toEqual([{ ref_id: 'o1' }]);
        await query(`UPDATE search_docs SET title = 'Rollback' WHERE workspace_id = $1 AND ref_id = 'o1'`, [ws]);
        expect(await query(`SELECT ref_id FROM search_docs WHERE tsv @@ to_tsquery('simple', 'rollback')`)).toEqual([
          { ref_id: 'o1' },
        ]);
      });
    });
  });
});
