import type { ObservationRecord } from './records.js';
import type { MemoryDatabase } from './database.js';

/**
 * Timeline entries' full-text index (`search_docs` + `search_fts`, kind `observation`). Issue-level
 * documents have their own index, kept by triggers (context/read-side-migration.ts, postgres-migrations.ts).
 */
export async function indexObservation(db: MemoryDatabase, workspaceId: string, r: ObservationRecord): Promise<void> {
  await db.lock(`observation:${workspaceId}:${r.id}`);
  const current = await db.get(
    db.qb
      .selectFrom('search_docs')
      .select(['doc_id', 'title', 'project_slug', 'occurred_at', 'issue_id'])
      .where('workspace_id', '=', workspaceId)
      .where('kind', '=', 'observation')
      .where('ref_id', '=', r.id),
  );
  const values = { issue_id: r.issueId, project_slug: r.projectSlug, occurred_at: r.occurredAt, title: r.summary, body: '' };
  if (!current) {
    await db.run(db.qb.insertInto('search_docs').values({ workspace_id: workspaceId, kind: 'observation', ref_id: r.id, ...values }));
    return;
  }
  // Re-indexing unchanged text would rewrite FTS segments for nothing; replays are common.
  const unchanged = current.title === r.summary && current.project_slug === r.projectSlug && current.occurred_at === r.occurredAt && current.issue_id === r.issueId;
  if (!unchanged) await db.run(db.qb.updateTable('search_docs').set(values).where('workspace_id', '=', workspaceId).where('doc_id', '=', current.doc_id));
}
