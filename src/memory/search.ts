import { sql } from 'kysely';
import type { SqliteDatabase } from './sqlite.js';

export interface SearchQuery {
  text: string;
  project?: string;
  status?: string;
  /** ISO time: only documents that occurred at or after it. */
  since?: string;
  kinds?: ('issue' | 'comment' | 'observation')[];
  limit?: number;
}

export interface SearchHit {
  kind: 'issue' | 'comment' | 'observation';
  id: string;
  title: string;
  occurredAt: string | null;
  issueId: string | null;
  shortId: string | null;
  project: string | null;
  status: string | null;
  score: number;
}

/** Words of the query as FTS5 string literals: user text never reaches FTS5 syntax unquoted. */
export function ftsTerms(text: string): string[] {
  return (text.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).map((t) => `"${t.replaceAll('"', '""')}"`);
}

/**
 * BM25-ranked documents (title weighted over body). All words must match; when that finds nothing,
 * any word may, so a long agent question still gets its best partial matches.
 */
export function searchDocuments(db: SqliteDatabase, workspaceId: string, query: SearchQuery): SearchHit[] {
  const terms = ftsTerms(query.text);
  if (!terms.length) return [];
  const strict = run(db, workspaceId, query, terms.join(' AND '));
  return strict.length || terms.length === 1 ? strict : run(db, workspaceId, query, terms.join(' OR '));
}

function run(db: SqliteDatabase, workspaceId: string, query: SearchQuery, match: string): SearchHit[] {
  let q = db.qb
    .selectFrom('search_fts')
    .innerJoin('search_docs as d', 'd.doc_id', 'search_fts.rowid')
    .leftJoin('issues as i', (join) => join.onRef('i.workspace_id', '=', 'd.workspace_id').onRef('i.id', '=', 'd.issue_id'))
    .select([
      'd.kind',
      'd.ref_id',
      'd.title',
      'd.occurred_at',
      'd.issue_id',
      'i.short_id',
      (eb) => eb.fn.coalesce('d.project_slug', 'i.project_slug').as('project'),
      'i.status',
      sql<number>`bm25(search_fts, 5.0, 1.0)`.as('score'),
    ])
    .where(sql<boolean>`search_fts MATCH ${match}`)
    .where('d.workspace_id', '=', workspaceId);
  if (query.project) q = q.where(sql<boolean>`lower(coalesce(d.project_slug, i.project_slug)) = lower(${query.project})`);
  if (query.status) q = q.where('i.status', '=', query.status);
  if (query.since) q = q.where('d.occurred_at', '>=', query.since);
  if (query.kinds?.length) q = q.where('d.kind', 'in', query.kinds);
  const rows = db.all(q.orderBy('score').orderBy('d.occurred_at', 'desc').limit(query.limit ?? 20));
  return rows.map((r) => ({
    kind: r.kind as SearchHit['kind'],
    id: r.ref_id,
    title: r.title,
    occurredAt: r.occurred_at,
    issueId: r.issue_id,
    shortId: r.short_id,
    project: r.project,
    status: r.status,
    // bm25() is lower-is-better and negative; report higher-is-better.
    score: -r.score,
  }));
}
