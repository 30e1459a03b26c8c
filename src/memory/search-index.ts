import type { SqliteDatabase } from './sqlite.js';

export interface SearchDocument {
  workspaceId: string;
  kind: 'issue' | 'comment' | 'observation';
  refId: string;
  issueId: string | null;
  projectSlug: string | null;
  occurredAt: string | null;
  title: string;
  body: string;
}

/** Inserts or refreshes one document; FTS rows follow through triggers on `search_docs`. */
export function indexDocument(db: SqliteDatabase, doc: SearchDocument): void {
  const current = db.get(
    db.qb
      .selectFrom('search_docs')
      .select(['doc_id', 'title', 'body', 'project_slug', 'occurred_at', 'issue_id'])
      .where('workspace_id', '=', doc.workspaceId)
      .where('kind', '=', doc.kind)
      .where('ref_id', '=', doc.refId),
  );
  const values = { issue_id: doc.issueId, project_slug: doc.projectSlug, occurred_at: doc.occurredAt, title: doc.title, body: doc.body };
  if (!current) {
    db.run(db.qb.insertInto('search_docs').values({ workspace_id: doc.workspaceId, kind: doc.kind, ref_id: doc.refId, ...values }));
    return;
  }
  // Re-indexing unchanged text would rewrite FTS segments for nothing; replays are common.
  const unchanged = current.title === doc.title && current.body === doc.body && current.project_slug === doc.projectSlug
    && current.occurred_at === doc.occurredAt && current.issue_id === doc.issueId;
  if (!unchanged) db.run(db.qb.updateTable('search_docs').set(values).where('doc_id', '=', current.doc_id));
}

export function removeDocument(db: SqliteDatabase, workspaceId: string, kind: SearchDocument['kind'], refId: string): void {
  db.run(db.qb.deleteFrom('search_docs').where('workspace_id', '=', workspaceId).where('kind', '=', kind).where('ref_id', '=', refId));
}
