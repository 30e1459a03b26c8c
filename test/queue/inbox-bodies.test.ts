import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { migrations as sqliteMigrations } from '../../src/memory/sqlite/migrations.js';
import { migrations as postgresMigrations } from '../../src/memory/postgres/migrations.js';
import { MemoryStore } from '../../src/memory/store.js';
import { Inbox } from '../../src/queue/inbox.js';
import { InboxWorker } from '../../src/queue/worker.js';
import { createSentryProcessor } from '../../src/sentry/webhooks/process.js';
import { column, createTestDatabase, scalar, TEST_ENGINE, type TestDatabase } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';

const ws = DEFAULT_WORKSPACE;
const issueCreated = webhookFixture('issue.created');
const commentCreated = webhookFixture('comment.created');
const now = '2026-01-01T00:00:00.000Z';

/** The last migration that kept each delivery's body in its inbox row. */
const BEFORE_SPLIT = { sqlite: 8, postgres: 3 };

/**
 * A database as the release before the split left it: the schema up to BEFORE_SPLIT, with one processed
 * and one pending delivery stored, bodies in their rows.
 */
async function storedBeforeSplit(location: string): Promise<void> {
  const insert = `INSERT INTO inbox (workspace_id, delivery_id, source, resource, action, external_id, sent_at, received_at, body, state, attempts, next_attempt_at)
                  VALUES (?, ?, 'sentry', ?, ?, NULL, ?, ?, ?, ?, ?, ?)`;
  const deliveries = [
    [
      ws,
      'old-processed',
      commentCreated.resource,
      commentCreated.action,
      now,
      now,
      commentCreated.raw,
      'processed',
      1,
      now,
    ],
    [ws, 'old-pending', issueCreated.resource, issueCreated.action, now, now, issueCreated.raw, 'pending', 0, now],
  ];
  if (TEST_ENGINE === 'sqlite') {
    const raw = new BetterSqlite3(location);
    raw.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const m of sqliteMigrations.filter((m) => m.id <= BEFORE_SPLIT.sqlite)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.id, m.name, now);
    }
    for (const values of deliveries) raw.prepare(insert).run(...values);
    raw.close();
    return;
  }
  const client = new pg.Client({ connectionString: location });
  await client.connect();
  try {
    await client.query(
      'CREATE TABLE schema_migrations (id integer PRIMARY KEY, name text COLLATE "C" NOT NULL, applied_at text COLLATE "C" NOT NULL)',
    );
    for (const m of postgresMigrations.filter((m) => m.id <= BEFORE_SPLIT.postgres)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [m.id, m.name, now]);
    }
    let n = 0;
    const numbered = insert.replace(/\?/g, () => `$${++n}`);
    for (const values of deliveries) await client.query(numbered, values);
  } finally {
    await client.end();
  }
}

describe('inbox bodies', () => {
  let database: TestDatabase;
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await database.cleanup();
  });

  it('are moved, byte for byte, out of the inbox rows of a memory written before they had their own table, and still processed', async () => {
    database = await createTestDatabase();
    await storedBeforeSplit(database.location);

    store = await MemoryStore.open(database.location);
    const inbox = new Inbox(store.db);
    const columns = await column<string>(
      store.db,
      TEST_ENGINE === 'sqlite'
        ? "SELECT name FROM pragma_table_info('inbox')"
        : "SELECT column_name FROM information_schema.columns WHERE table_name = 'inbox' AND table_schema = current_schema()",
    );
    expect(columns).not.toContain('body');
    const [processed, pending] = await column<number>(store.db, 'SELECT seq FROM inbox ORDER BY seq');
    expect((await inbox.find(ws, Number(processed)))?.body).toBe(commentCreated.raw);
    expect((await inbox.find(ws, Number(pending)))?.body).toBe(issueCreated.raw);

    const due = await inbox.due(10, '9999-01-01T00:00:00.000Z');
    expect(due.map((row) => [row.delivery_id, row.body])).toEqual([['old-pending', issueCreated.raw]]);
    const worker = new InboxWorker(store.db, inbox, { sentry: createSentryProcessor() }, pino({ level: 'silent' }));
    expect(await worker.drain()).toBe(1);
    expect(await inbox.countsByState(ws)).toMatchObject({ processed: 2, pending: 0, dead: 0 });
    const issue = issueCreated.json as { data: { issue: { id: string; title: string } } };
    expect((await store.issue(ws, issue.data.issue.id))?.title).toBe(issue.data.issue.title);
  });

  it('are stored once per new delivery, under its own seq, and not for a duplicate', async () => {
    database = await createTestDatabase();
    store = await MemoryStore.open(database.location);
    const inbox = new Inbox(store.db);
    const delivery = (deliveryId: string, body: string) => ({
      workspaceId: ws,
      source: 'sentry',
      deliveryId,
      resource: 'issue',
      action: 'created',
      externalId: null,
      sentAt: now,
      body,
    });
    // One group commit: two new deliveries and a retry of the first with other bytes, which must not replace them.
    const [first, second, retry] = await Promise.all([
      inbox.enqueue(delivery('a', issueCreated.raw)),
      inbox.enqueue(delivery('b', `${issueCreated.raw}\n`)),
      inbox.enqueue(delivery('a', '{}')),
    ]);
    expect([first.duplicate, second.duplicate, retry.duplicate]).toEqual([false, false, true]);
    expect((await inbox.find(ws, first.seq!))?.body).toBe(issueCreated.raw);
    expect((await inbox.find(ws, second.seq!))?.body).toBe(`${issueCreated.raw}\n`);
    expect(await scalar(store.db, 'SELECT count(*) FROM inbox_bodies')).toBe(2);
  });
});
