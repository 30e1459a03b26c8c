import type { Insertable } from 'kysely';
import type { ObservationRecord } from './records.js';
import type { Database } from './schema.js';
import { rowsStatement, type MemoryDatabase } from './database.js';

export type SearchDocRow = Insertable<Database['search_docs']>;

/** A timeline entry's document: its summary is the title. */
export function searchDocOf(workspaceId: string, r: ObservationRecord): SearchDocRow {
  return {
    workspace_id: workspaceId,
    kind: 'observation',
    ref_id: r.id,
    issue_id: r.issueId,
    project_slug: r.projectSlug,
    occurred_at: r.occurredAt,
    title: r.summary,
    body: '',
  };
}

/**
 * Timeline entries' full-text index (`search_docs` + `search_fts`, kind `observation`). Issue-level
 * documents have their own index, kept by triggers (sqlite/read-side-migration.ts, postgres/migrations.ts).
 * One upsert for any number of documents (distinct keys), needing no lock: a document that would not
 * change is not written, since re-indexing unchanged text would rewrite FTS segments for nothing and
 * replays are common.
 */
export async function indexObservations(db: MemoryDatabase, docs: readonly SearchDocRow[]): Promise<void> {
  if (!docs.length) return;
  const changing = ['issue_id', 'project_slug', 'occurred_at', 'title'] as const;
  await db.run(
    rowsStatement(db, 'index observations', docs, (qb, rows) =>
      qb
        .insertInto('search_docs')
        .values([...rows])
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'kind', 'ref_id'])
            .doUpdateSet((eb) => Object.fromEntries(changing.map((column) => [column, eb.ref(`excluded.${column}`)])))
            .where((eb) =>
              eb.or(
                changing.map((column) =>
                  eb(eb.ref(`excluded.${column}`), 'is distinct from', eb.ref(`search_docs.${column}`)),
                ),
              ),
            ),
        ),
    ),
  );
}
