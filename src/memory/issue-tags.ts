import type { Selectable } from 'kysely';
import { keyIn, rowsStatement, type MemoryDatabase } from './database.js';
import { mergeKeys } from './merge.js';
import type { Database } from './schema.js';
import type { IssueTagsRecord } from './records.js';
import { eventsAfter } from './stored.js';

/** Values kept per issue and key; the rest of the key's events are counted in `other`. */
export const TAG_VALUES_KEPT = 20;

/**
 * Counts are Sentry's at a snapshot time T plus the stored events after T, so no event is counted
 * twice: a snapshot replaces the issue's counts and re-adds its stored events newer than T; an event
 * stored later adds itself only when it is newer than T (or there is no snapshot yet).
 */
export async function applyIssueTags(db: MemoryDatabase, workspaceId: string, r: IssueTagsRecord): Promise<void> {
  await db.lock(mergeKeys.issueTags(workspaceId, r.issueId));
  const current = await snapshotTime(db, workspaceId, r.issueId);
  if (current !== null && r.observedAt <= current) return;
  for (const table of ['issue_tag_values', 'issue_tag_keys'] as const)
    await db.run(db.qb.deleteFrom(table).where('workspace_id', '=', workspaceId).where('issue_id', '=', r.issueId));
  for (const tag of r.keys) {
    const kept = [...tag.values]
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
      .slice(0, TAG_VALUES_KEPT);
    const keptTotal = kept.reduce((sum, v) => sum + v.count, 0);
    const total = Math.max(tag.total, keptTotal);
    await db.run(
      db.qb.insertInto('issue_tag_keys').values({
        workspace_id: workspaceId,
        issue_id: r.issueId,
        key: tag.key,
        name: tag.name,
        total,
        other: total - keptTotal,
        synced_at: r.observedAt,
      }),
    );
    if (kept.length)
      await db.run(
        db.qb.insertInto('issue_tag_values').values(
          kept.map((v) => ({
            workspace_id: workspaceId,
            issue_id: r.issueId,
            key: tag.key,
            value: v.value,
            count: v.count,
          })),
        ),
      );
  }
  const counts = await TagCounts.load(db, [[workspaceId, r.issueId]]);
  for (const event of await eventsAfter(db, workspaceId, r.issueId, r.observedAt))
    counts.add(workspaceId, r.issueId, JSON.parse(event.tags) as Record<string, string>, r.observedAt);
  await counts.write(db);
}

/** A newly stored event's tags, unless the issue's snapshot already counts it. */
export async function countEventTags(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  occurredAt: string,
  tags: Record<string, string>,
): Promise<void> {
  if (!Object.keys(tags).length) return;
  await db.lock(mergeKeys.issueTags(workspaceId, issueId));
  const counts = await TagCounts.load(db, [[workspaceId, issueId]]);
  counts.addEvent(workspaceId, issueId, occurredAt, tags);
  await counts.write(db);
}

async function snapshotTime(db: MemoryDatabase, workspaceId: string, issueId: string): Promise<string | null> {
  const row = await db.get(
    db.qb
      .selectFrom('issue_tag_keys')
      .select('synced_at')
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', issueId)
      .where('synced_at', 'is not', null)
      .limit(1),
  );
  return row?.synced_at ?? null;
}

type KeyRow = Selectable<Database['issue_tag_keys']>;
type ValueRow = Selectable<Database['issue_tag_values']>;
const join = (...parts: string[]) => parts.join('\u0000');

/**
 * Issues' tag counts read into memory, added to event by event, and written back: each kept value
 * counts its events, up to TAG_VALUES_KEPT values per key; a key's events with any other value are
 * counted in its `other`. Hold the issues' `issueTags` merge keys while it is in use.
 */
export class TagCounts {
  private readonly keys = new Map<string, KeyRow>();
  private readonly values = new Map<string, ValueRow>();
  private readonly kept = new Map<string, number>();
  private readonly snapshots = new Map<string, string>();
  private readonly changed = { keys: new Set<string>(), values: new Set<string>() };

  /** The stored counts of `issues` ([workspace, issue] pairs). */
  static async load(db: MemoryDatabase, issues: readonly (readonly [string, string])[]): Promise<TagCounts> {
    const counts = new TagCounts();
    if (!issues.length) return counts;
    const ofIssues = keyIn(['workspace_id', 'issue_id'], issues);
    const [keys, values] = await Promise.all([
      db.all(db.qb.selectFrom('issue_tag_keys').selectAll().where(ofIssues)),
      db.all(db.qb.selectFrom('issue_tag_values').selectAll().where(ofIssues)),
    ]);
    for (const key of keys) {
      counts.keys.set(join(key.workspace_id, key.issue_id, key.key), key);
      if (key.synced_at !== null) counts.snapshots.set(join(key.workspace_id, key.issue_id), key.synced_at);
    }
    for (const value of values) {
      const key = join(value.workspace_id, value.issue_id, value.key);
      counts.values.set(join(key, value.value), value);
      counts.kept.set(key, (counts.kept.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** A newly stored event's tags, unless the issue's snapshot already counts it. */
  addEvent(workspaceId: string, issueId: string, occurredAt: string, tags: Record<string, string>): void {
    const snapshot = this.snapshots.get(join(workspaceId, issueId)) ?? null;
    if (snapshot !== null && occurredAt <= snapshot) return;
    this.add(workspaceId, issueId, tags, snapshot);
  }

  /** One event's tags; a key first seen gets `snapshot` as its sync time. */
  add(workspaceId: string, issueId: string, tags: Record<string, string>, snapshot: string | null): void {
    for (const [tag, value] of Object.entries(tags)) {
      const key = join(workspaceId, issueId, tag);
      const keyRow = this.keys.get(key);
      if (keyRow) keyRow.total += 1;
      else
        this.keys.set(key, {
          workspace_id: workspaceId,
          issue_id: issueId,
          key: tag,
          name: null,
          total: 1,
          other: 0,
          synced_at: snapshot,
        });
      this.changed.keys.add(key);
      const valueKey = join(key, value);
      const valueRow = this.values.get(valueKey);
      if (valueRow) valueRow.count += 1;
      else if ((this.kept.get(key) ?? 0) < TAG_VALUES_KEPT) {
        this.values.set(valueKey, { workspace_id: workspaceId, issue_id: issueId, key: tag, value, count: 1 });
        this.kept.set(key, (this.kept.get(key) ?? 0) + 1);
      } else {
        this.keys.get(key)!.other += 1;
        continue;
      }
      this.changed.values.add(valueKey);
    }
  }

  /** Writes what changed, one statement per table. */
  async write(db: MemoryDatabase): Promise<void> {
    const keys = [...this.changed.keys].map((key) => this.keys.get(key)!);
    const values = [...this.changed.values].map((key) => this.values.get(key)!);
    if (keys.length)
      await db.run(
        rowsStatement(db, 'write issue tag keys', keys, (qb, rows) =>
          qb
            .insertInto('issue_tag_keys')
            .values([...rows])
            .onConflict((oc) =>
              oc.columns(['workspace_id', 'issue_id', 'key']).doUpdateSet((eb) => ({
                total: eb.ref('excluded.total'),
                other: eb.ref('excluded.other'),
              })),
            ),
        ),
      );
    if (values.length)
      await db.run(
        rowsStatement(db, 'write issue tag values', values, (qb, rows) =>
          qb
            .insertInto('issue_tag_values')
            .values([...rows])
            .onConflict((oc) =>
              oc
                .columns(['workspace_id', 'issue_id', 'key', 'value'])
                .doUpdateSet((eb) => ({ count: eb.ref('excluded.count') })),
            ),
        ),
      );
    this.changed.keys.clear();
    this.changed.values.clear();
  }
}

/**
 * Issues last seen since `since` whose tag counts were never read from the source or were read before
 * their last event, busiest first: what a sync should read tags for.
 */
export async function issuesNeedingTags(db: MemoryDatabase, workspaceId: string, since: string): Promise<string[]> {
  const rows = await db.all(
    db.qb
      .selectFrom('issues as i')
      .select((eb) => [
        'i.id',
        'i.last_seen',
        eb
          .selectFrom('issue_tag_keys as k')
          .select((k) => k.fn.max('k.synced_at').as('synced'))
          .whereRef('k.workspace_id', '=', 'i.workspace_id')
          .whereRef('k.issue_id', '=', 'i.id')
          .as('synced_at'),
      ])
      .where('i.workspace_id', '=', workspaceId)
      .where('i.last_seen', '>=', since)
      .orderBy('i.count', 'desc')
      .orderBy('i.last_seen', 'desc')
      .orderBy('i.id'),
  );
  return rows.filter((r) => r.synced_at == null || r.synced_at < r.last_seen!).map((r) => r.id);
}
