import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { applyBatch, foldable, type BatchUnit } from '../../src/memory/batch-writer.js';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { applyRecords } from '../../src/memory/writer.js';
import { mapWebhookEvent } from '../../src/sentry/mapping/webhook.js';
import { parseWebhook } from '../../src/sentry/webhooks/payloads.js';
import { createTestDatabase, rows, type TestDatabase } from '../helpers/database.js';
import { prepareDeliveries } from '../helpers/deliveries.js';
import { webhookFixture, webhookFixtures } from '../helpers/fixtures.js';

const SOURCE = 'sentry';

/** Every table a merge writes, derived ones included, minus ids the engine hands out (sequences). */
async function everything(db: MemoryDatabase): Promise<Record<string, string[]>> {
  const tables = {
    issues: '*',
    events: '*',
    comments: '*',
    alerts: '*',
    insights: '*',
    releases: '*',
    commits: '*',
    deploys: '*',
    projects: '*',
    teams: '*',
    members: '*',
    environments: '*',
    observations: '*',
    connections: '*',
    issue_history: '*',
    issue_signatures: '*',
    issue_tag_keys: '*',
    issue_tag_values: '*',
    issue_event_counts: '*',
    issue_facets: '*',
    search_docs: 'workspace_id, kind, ref_id, issue_id, project_slug, occurred_at, title, body',
    agent_docs: 'workspace_id, kind, ref_id, issue_id, occurred_at',
  };
  const out: Record<string, string[]> = {};
  for (const [table, columns] of Object.entries(tables))
    out[table] = (await rows(db, `SELECT ${columns} FROM ${table}`))
      .map((row) => JSON.stringify(Object.entries(row).map(([c, v]) => [c, canonical(v)])))
      .sort();
  return out;
}

/** JSON text as a value, so that jsonb's key order and SQLite's text compare equal. */
function canonical(value: unknown): unknown {
  if (typeof value !== 'string' || !/^[[{]/.test(value)) return value;
  try {
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sortKeys)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => (a < b ? -1 : 1))
                .map(([k, x]) => [k, sortKeys(x)]),
            )
          : v;
    return JSON.stringify(sortKeys(JSON.parse(value)));
  } catch {
    return value;
  }
}

/**
 * Real-shaped deliveries as units, in delivery order: the documented webhooks twice (every copy a
 * replay), the bench's mix (four deliveries per issue), and one issue's burst of events in the same
 * second with more distinct tag values than are kept.
 */
function units(): BatchUnit[] {
  const bodies: { resource: string; json: unknown }[] = [];
  for (let round = 0; round < 2; round++)
    for (const fixture of webhookFixtures()) bodies.push({ resource: fixture.resource, json: fixture.json });
  for (const d of prepareDeliveries(400, 'secret'))
    bodies.push({ resource: d.headers['sentry-hook-resource'], json: JSON.parse(d.body.toString()) });
  const error = webhookFixture('error.created').json as { data: { error: Record<string, unknown> } };
  for (let i = 0; i < 60; i++)
    bodies.push({
      resource: 'error',
      json: {
        ...error,
        data: {
          error: {
            ...error.data.error,
            event_id: `burst${String(i).padStart(27, '0')}`,
            tags: [
              ['browser', `Browser ${i % 27}`],
              ['handled', i % 2 ? 'yes' : 'no'],
            ],
          },
        },
      },
    });
  const sentAt = '2026-12-01T10:00:00.000Z';
  return bodies.flatMap(({ resource, json }, seq) => {
    const parsed = parseWebhook(resource, json, sentAt, seq + 1);
    if (!parsed.ok) return [];
    return [{ workspaceId: DEFAULT_WORKSPACE, source: SOURCE, records: mapWebhookEvent(parsed.event) }];
  });
}

/** Applies `all` in batches of `size`, a unit the batch cannot fold alone in its place. */
async function applyInBatches(db: MemoryDatabase, all: readonly BatchUnit[], size: number): Promise<void> {
  for (let start = 0; start < all.length;) {
    if (!foldable(all[start])) {
      const unit = all[start++];
      await db.transaction((tx) => applyRecords(tx, unit.workspaceId, unit.source, unit.records));
      continue;
    }
    let end = start;
    while (end < all.length && end - start < size && foldable(all[end])) end++;
    const batch = all.slice(start, end);
    const applied = await db.transaction((tx) => applyBatch(tx, batch));
    expect(applied.every(Boolean)).toBe(true);
    start = end;
  }
}

let sequential: TestDatabase;
let batched: TestDatabase;
let stores: MemoryStore[];
beforeEach(async () => {
  sequential = await createTestDatabase();
  batched = await createTestDatabase();
  stores = [];
});
afterEach(async () => {
  for (const store of stores) await store.close();
  await sequential.cleanup();
  await batched.cleanup();
});

async function open(database: TestDatabase): Promise<MemoryDatabase> {
  const store = await MemoryStore.open(database.location);
  stores.push(store);
  return store.db;
}

describe('the batch writer', () => {
  it('makes the same memory as the records applied one at a time, derived tables and counts included, and so does a replay of them all', async () => {
    const all = units();
    expect(all.length).toBeGreaterThan(450);
    expect(all.some((u) => !foldable(u))).toBe(true); // the installation webhooks
    const reference = await open(sequential);
    for (const unit of all)
      await reference.transaction((tx) => applyRecords(tx, unit.workspaceId, unit.source, unit.records));
    const expected = await everything(reference);
    // The burst's tag values overflow what is kept, so the kept ones depend on the order of counting.
    const overflowing = await rows<{ other: number }>(
      reference,
      "SELECT other FROM issue_tag_keys WHERE key = 'browser' AND other > 0",
    );
    expect(overflowing).toHaveLength(1);

    const db = await open(batched);
    // 97: batches that cut an issue's deliveries apart; then all of them in one batch, as a replay.
    await applyInBatches(db, all, 97);
    expect(await everything(db)).toEqual(expected);
    // A replay leaves the counts as they were, and history only gains the facts that are older than
    // what is stored now (kept at their own time): the same as replaying them one at a time.
    for (const unit of all)
      await reference.transaction((tx) => applyRecords(tx, unit.workspaceId, unit.source, unit.records));
    const replayed = await everything(reference);
    expect({ ...replayed, issue_history: [] }).toEqual({ ...expected, issue_history: [] });
    await applyInBatches(db, all, all.length);
    expect(await everything(db)).toEqual(replayed);
  });

  it('leaves for later, and does not apply, a delivery whose merge key another transaction holds', async () => {
    const db = await open(batched);
    const all = units().filter(foldable).slice(0, 40);
    const issueUnit = all.findIndex((u) => u.records.some((r) => r.kind === 'issue'));
    const issueId = all[issueUnit].records.find((r) => r.kind === 'issue')!.id;
    if (db.engine === 'sqlite') {
      // One writer at a time: nothing can hold a key while a batch runs.
      expect((await db.transaction((tx) => applyBatch(tx, all))).every(Boolean)).toBe(true);
      return;
    }
    const other = await open(batched);
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const holder = other.transaction(async (tx) => {
      await tx.lock(`issue:${DEFAULT_WORKSPACE}:${issueId}`);
      held();
      await holding;
    });
    await isHeld;
    const applied = await db.transaction((tx) => applyBatch(tx, all));
    release();
    await holder;
    const touchesIssue = all.map((u) => u.records.some((r) => r.kind === 'issue' && r.id === issueId));
    expect(applied).toEqual(touchesIssue.map((touches) => !touches));
    expect(await rows(db, 'SELECT id FROM issues WHERE id = ?', issueId)).toEqual([]);
  });

  it('applies a delivery whose merge key holds a NUL (PostgreSQL stores it as U+FFFD), rather than leaving it for later forever', async () => {
    const db = await open(batched);
    const unit = units().find((u) => foldable(u) && u.records.some((r) => r.kind === 'issue'))!;
    const issue = unit.records.find((r) => r.kind === 'issue')!;
    const withNul = { ...unit, records: [{ ...issue, id: `${issue.id}\0x` }] };
    expect(await db.transaction((tx) => applyBatch(tx, [withNul]))).toEqual([true]);
    const ids = (await rows<{ id: string }>(db, 'SELECT id FROM issues')).map((r) => r.id);
    expect(ids).toEqual([db.engine === 'postgres' ? `${issue.id}\uFFFDx` : withNul.records[0].id]);
  });
});

describe('a comment edited before its creation arrives', () => {
  // Deliveries are not ordered: the edit (which carries no creation time) can be stored first.
  const created = webhookFixture('comment.created');
  const json = created.json as { data: { comment: string; timestamp: string } };
  const edit = { ...json, action: 'updated', data: { ...json.data, comment: 'edited: zebra crossing' } };
  const unitOf = (resource: string, body: unknown, seq: number): BatchUnit => {
    const parsed = parseWebhook(resource, body, '2026-12-01T10:00:00.000Z', seq);
    if (!parsed.ok) throw new Error(parsed.reason);
    return { workspaceId: DEFAULT_WORKSPACE, source: SOURCE, records: mapWebhookEvent(parsed.event) };
  };
  const [editUnit, createUnit] = [unitOf('comment', edit, 2), unitOf('comment', json, 1)];
  const documents = (db: MemoryDatabase) =>
    rows(db, "SELECT ref_id, occurred_at FROM agent_docs WHERE kind = 'comment' ORDER BY ref_id");
  const text = (db: MemoryDatabase) => rows(db, 'SELECT text, created_at FROM comments');

  it('is indexed at the creation’s time with the edited text, one delivery at a time and in batches', async () => {
    const one = await open(sequential);
    for (const unit of [editUnit, createUnit])
      await one.transaction((tx) => applyRecords(tx, unit.workspaceId, unit.source, unit.records));
    const expected = [{ ref_id: '1234', occurred_at: new Date(json.data.timestamp).toISOString() }];
    expect(await documents(one)).toEqual(expected);
    expect(await text(one)).toEqual([{ text: 'edited: zebra crossing', created_at: expected[0].occurred_at }]);

    const batches = await open(batched);
    for (const unit of [editUnit, createUnit]) await batches.transaction((tx) => applyBatch(tx, [unit]));
    expect(await documents(batches)).toEqual(expected);
    expect(await everything(batches)).toEqual(await everything(one));
  });
});
