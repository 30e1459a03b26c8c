import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterTokens, searchMemory } from '../../src/memory/context/search.js';
import { migrations } from '../../src/memory/sqlite/migrations.js';
import type { MemoryRecord } from '../../src/memory/records.js';
import type { SqliteDatabase } from '../../src/memory/sqlite/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { applyRecords } from '../../src/memory/writer.js';
import { createTestDatabase, openTestStore, TEST_ENGINE } from '../helpers/database.js';
import { emulatorRecords, EPOCH, seededOrganization } from '../helpers/emulator-memory.js';

/**
 * SQLite's full-text indexes are written when a transaction commits, from notes its triggers leave
 * (sqlite/search-index-migration.ts). Whatever the writes (re-indexing, status changes, edits,
 * deletions, savepoints rolled back), the indexes must end up as if built from scratch.
 */
describe.skipIf(TEST_ENGINE !== 'sqlite')('full-text indexes written at commit', () => {
  const { data, store: emu } = seededOrganization({ seed: 5, issues: 200 });
  const records = emulatorRecords(emu);
  let store: MemoryStore;
  let close: () => Promise<void>;
  const raw = () => (store.db as SqliteDatabase).raw;
  const at = (minutes: number) => new Date(EPOCH + minutes * 60_000).toISOString();
  const now = new Date(EPOCH).toISOString();

  beforeAll(async () => {
    ({ store, close } = await openTestStore());
    // In several transactions, as pages of a sync would arrive.
    for (let i = 0; i < records.length; i += 500) await store.apply('default', 'sentry', records.slice(i, i + 500));
  });
  afterAll(() => close());

  /** Which rows each word matches, in both indexes. */
  const matches = (words: string[]) =>
    words.map((word) => ({
      word,
      agent: raw()
        .prepare('SELECT rowid FROM agent_fts WHERE agent_fts MATCH ? ORDER BY rowid')
        .pluck()
        .all(`"${word}"`),
      search: raw()
        .prepare('SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid')
        .pluck()
        .all(`"${word}"`),
    }));

  it('match what a rebuild from the stored documents matches, after every kind of change', async () => {
    const issues = data.issues.slice(0, 40);
    const comment = records.find((r): r is Extract<MemoryRecord, { kind: 'comment' }> => r.kind === 'comment')!;
    const observation = records.find(
      (r): r is Extract<MemoryRecord, { kind: 'observation' }> => r.kind === 'observation',
    )!;
    await store.db.transaction(async (tx) => {
      // Status and level changes, and a new last-seen hour (a fresh row id), twice in one transaction.
      for (const [n, issue] of issues.entries()) {
        await applyRecords(tx, 'default', 'sentry', [
          {
            kind: 'issue',
            id: issue.id,
            observedAt: at(1),
            level: n % 2 ? 'fatal' : 'info',
            status: { value: { status: 'ignored', substatus: null }, at: at(1) },
          },
        ]);
        await applyRecords(tx, 'default', 'sentry', [
          {
            kind: 'issue',
            id: issue.id,
            observedAt: at(2),
            lastSeen: at(2 + n * 60),
            status: { value: { status: 'resolved', substatus: null }, at: at(2) },
          },
        ]);
      }
      // A comment edited, then deleted; a timeline entry's text changed.
      await applyRecords(tx, 'default', 'sentry', [
        { ...comment, body: { value: { text: 'edited: zebra crossing', deleted: false }, at: at(3) } },
      ]);
      await applyRecords(tx, 'default', 'sentry', [
        { ...comment, body: { value: { text: null, deleted: true }, at: at(4) } },
      ]);
      await applyRecords(tx, 'default', 'sentry', [{ ...observation, summary: 'renamed: walrus migration' }]);
      // A savepoint that fails: none of its notes may reach the index.
      await tx
        .transaction(async (inner) => {
          await applyRecords(inner, 'default', 'sentry', [
            {
              kind: 'issue',
              id: issues[0].id,
              observedAt: at(5),
              title: 'platypus never indexed',
              status: { value: { status: 'unresolved', substatus: null }, at: at(5) },
            },
          ]);
          throw new Error('delivery failed');
        })
        .catch(() => undefined);
    });
    expect(raw().prepare('SELECT count(*) FROM fts_pending').pluck().get()).toBe(0);
    raw().exec("INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)");
    raw().exec("INSERT INTO agent_fts (agent_fts, rank) VALUES ('integrity-check', 0)");

    const filters = [
      ...['resolved', 'ignored', 'unresolved'].flatMap((status) => filterTokens({ status })),
      ...filterTokens({ level: 'fatal' }),
    ];
    const words = [
      ...filters,
      'zebra',
      'walrus',
      'platypus',
      'error',
      'typeerror',
      'checkout',
      issues[3].shortId.toLowerCase(),
    ];
    const incremental = matches(words);
    expect(incremental.find((m) => m.word === 'walrus')!.search).toHaveLength(1);
    expect(incremental.find((m) => m.word === 'zebra')!.agent).toHaveLength(0);
    expect(incremental.find((m) => m.word === 'platypus')!.agent).toHaveLength(0);

    await store.db.transaction(async () => {
      raw().exec(
        "INSERT INTO agent_fts (agent_fts) VALUES ('delete-all'); INSERT INTO search_fts (search_fts) VALUES ('delete-all')",
      );
      raw().exec(
        "INSERT INTO fts_pending (idx, op, rowid) SELECT 'agent', 'insert', row_id FROM agent_docs; INSERT INTO fts_pending (idx, op, rowid) SELECT 'search', 'insert', doc_id FROM search_docs",
      );
    });
    expect(matches(words)).toEqual(incremental);
  });

  it('are rebuilt, with filter tokens, when a memory written before them is opened', async () => {
    // A memory at migration 7 (indexes written row by row, no filter tokens) holding the same documents.
    const old = await createTestDatabase();
    try {
      const raw7 = new BetterSqlite3(old.location);
      raw7.exec(
        'CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      for (const m of migrations.filter((m) => m.id <= 7)) {
        raw7.exec(m.sql);
        raw7.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.id, m.name, now);
      }
      raw7.exec(`ATTACH '${(store.db as SqliteDatabase).raw.name}' AS current`);
      for (const table of ['issues', 'events', 'comments', 'insights', 'alerts', 'observations'])
        raw7.exec(`INSERT INTO main.${table} SELECT * FROM current.${table}`);
      raw7.exec('DETACH current');
      raw7.close();

      const upgraded = await MemoryStore.open(old.location);
      try {
        expect((upgraded.db as SqliteDatabase).raw.prepare('SELECT count(*) FROM fts_pending').pluck().get()).toBe(0);
        const project = data.issues[0].projectId;
        const slug = data.projects.find((p) => p.id === project)!.slug;
        for (const query of [
          { text: 'error' },
          { text: 'error', status: 'resolved' },
          { text: 'error', project: slug, level: 'error' },
          { text: 'cart', kinds: ['comment' as const] },
        ]) {
          const ids = async (s: MemoryStore) =>
            (await searchMemory(s.db, 'default', { ...query, limit: 500, now: EPOCH })).hits
              .map((h) => `${h.kind}:${h.id}`)
              .sort();
          const expected = await ids(store);
          expect(expected.length, JSON.stringify(query)).toBeGreaterThan(0);
          expect(await ids(upgraded), JSON.stringify(query)).toEqual(expected);
        }
      } finally {
        await upgraded.close();
      }
    } finally {
      await old.cleanup();
    }
  });
});
