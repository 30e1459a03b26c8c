import type { ObservationRecord } from './records.js';
import { prepared, type MemoryDatabase } from './database.js';

/**
 * Timeline entries' full-text index (`search_docs` + `search_fts`, kind `observation`). Issue-level
 * documents have their own index, kept by triggers (sqlite/read-side-migration.ts, postgres/migrations.ts).
 */
export async function indexObservation(db: MemoryDatabase, workspaceId: string, r: ObservationRecord): Promise<void> {
  await db.lock(`observation:${workspaceId}:${r.id}`);
  const find = prepared(db, 'search doc of an observation', (qb) =>
    qb
      .selectFrom('search_docs')
      .select(['doc_id', 'title', 'project_slug', 'occurred_at', 'issue_id'])
      .where('workspace_id', '=', '')
      .where('kind', '=', 'observation')
      .where('ref_id', '=', ''),
  );
  const current = await db.get(find(workspaceId, 'observation', r.id));
  if (!current) {
    const insert = prepared(db, 'insert search doc of an observation', (qb) =>
      qb.insertInto('search_docs').values({
        workspace_id: '',
        kind: 'observation',
        ref_id: '',
        issue_id: '',
        project_slug: '',
        occurred_at: '',
        title: '',
        body: '',
      }),
    );
    await db.run(insert(workspaceId, 'observation', r.id, r.issueId, r.projectSlug, r.occurredAt, r.summary, ''));
    return;
  }
  // Re-indexing unchanged text would rewrite FTS segments for nothing; replays are common.
  const unchanged =
    current.title === r.summary &&
    current.project_slug === r.projectSlug &&
    current.occurred_at === r.occurredAt &&
    current.issue_id === r.issueId;
  if (unchanged) return;
  const update = prepared(db, 'update search doc of an observation', (qb) =>
    qb
      .updateTable('search_docs')
      .set({ issue_id: '', project_slug: '', occurred_at: '', title: '' })
      .where('workspace_id', '=', '')
      .where('doc_id', '=', 0),
  );
  await db.run(update(r.issueId, r.projectSlug, r.occurredAt, r.summary, workspaceId, current.doc_id));
}
