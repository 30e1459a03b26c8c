import type { MemoryDatabase } from './database.js';
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
  await db.lock(`issue-tags:${workspaceId}:${r.issueId}`);
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
  for (const event of await eventsAfter(db, workspaceId, r.issueId, r.observedAt))
    await addTags(db, workspaceId, r.issueId, JSON.parse(event.tags) as Record<string, string>, r.observedAt);
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
  await db.lock(`issue-tags:${workspaceId}:${issueId}`);
  const snapshot = await snapshotTime(db, workspaceId, issueId);
  if (snapshot !== null && occurredAt <= snapshot) return;
  await addTags(db, workspaceId, issueId, tags, snapshot);
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

async function addTags(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  tags: Record<string, string>,
  snapshot: string | null,
): Promise<void> {
  const issue = { workspace_id: workspaceId, issue_id: issueId };
  for (const [key, value] of Object.entries(tags)) {
    await db.run(
      db.qb
        .insertInto('issue_tag_keys')
        .values({ ...issue, key, name: null, total: 1, other: 0, synced_at: snapshot })
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'issue_id', 'key'])
            .doUpdateSet((eb) => ({ total: eb('issue_tag_keys.total', '+', 1) })),
        ),
    );
    const counted = await db.run(
      db.qb
        .updateTable('issue_tag_values')
        .set((eb) => ({ count: eb('count', '+', 1) }))
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', '=', issueId)
        .where('key', '=', key)
        .where('value', '=', value),
    );
    if (counted.changes) continue;
    const kept = await db.get(
      db.qb
        .selectFrom('issue_tag_values')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', '=', issueId)
        .where('key', '=', key),
    );
    if (Number(kept?.n ?? 0) < TAG_VALUES_KEPT)
      await db.run(db.qb.insertInto('issue_tag_values').values({ ...issue, key, value, count: 1 }));
    else
      await db.run(
        db.qb
          .updateTable('issue_tag_keys')
          .set((eb) => ({ other: eb('other', '+', 1) }))
          .where('workspace_id', '=', workspaceId)
          .where('issue_id', '=', issueId)
          .where('key', '=', key),
      );
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
