import { sql } from 'kysely';
import type { SqliteDatabase } from '../sqlite.js';
import { QueryError } from './errors.js';

export const DOC_KINDS = ['issue', 'comment', 'insight', 'alert', 'observation'] as const;
export type DocKind = (typeof DOC_KINDS)[number];
/** Searched when no kinds are given. Timeline entries (`observation`) are searched only on request: a million of them repeat issue titles. */
const DEFAULT_KINDS = ['issue', 'comment', 'insight', 'alert'] as const;
type IssueLevelKind = (typeof DEFAULT_KINDS)[number];

export interface SearchFilters {
  project?: string;
  /** Issues seen in this environment (by their events). */
  environment?: string;
  /** Issues first or last seen in, or with events of, this release version. */
  release?: string;
  level?: string;
  status?: string;
  kinds?: readonly DocKind[];
  /** ISO times: documents active in [since, until]. */
  since?: string;
  until?: string;
}

export const SEARCH_ORDERS = ['relevance', 'events', 'users', 'recent'] as const;

export interface SearchQuery extends SearchFilters {
  text: string;
  /** `relevance` (default) blends words, recency and impact; the others order the matches by events, users or last seen. */
  sort?: (typeof SEARCH_ORDERS)[number];
  limit?: number;
  offset?: number;
  /** Reference time for recency (ISO); defaults to now. */
  now?: string;
}

export interface SearchHit {
  kind: DocKind;
  /** The document's own id: issue id, comment id, `issue:run:stage` for Seer insights, alert id. */
  id: string;
  title: string;
  occurredAt: string | null;
  issueId: string | null;
  shortId: string | null;
  project: string | null;
  status: string | null;
  level: string | null;
  count: number | null;
  userCount: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  score: number;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Whether more ranked hits follow this page. */
  more: boolean;
  /** `all-words` when every word matched; `any-word` when that found nothing and any word was allowed. */
  match: 'all-words' | 'any-word';
  /**
   * `ranked`: every match was ranked. `recent`: the words are so frequent that only the most recently
   * active matches were ranked — add words or filters to reach older ones.
   */
  strategy: 'ranked' | 'recent';
}

/** Above this many estimated matches, only the most recently active ones are ranked (see NOTES: BM25 cost grows with matches). */
const RANK_ALL_LIMIT = 1_500;
const RECENT_CANDIDATES = 300;
export const MAX_SEARCH_OFFSET = 200;

/** Words of the query as FTS5 string literals: user text never reaches FTS5 syntax unquoted. */
export function ftsTerms(text: string): string[] {
  return [...new Set((text.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).map((t) => t.toLowerCase()))].map((t) => `"${t.replaceAll('"', '""')}"`);
}

/**
 * Issue-level search: BM25 (title weighted over body) blended with recency and impact. All words
 * must match; when that finds nothing, any word may, so a long agent question still gets its best
 * partial matches.
 */
export function searchMemory(db: SqliteDatabase, workspaceId: string, query: SearchQuery): SearchResult {
  const terms = ftsTerms(query.text);
  if (!terms.length) throw new QueryError('query has no words to search for: pass words such as an error type, message, function or file name');
  const limit = query.limit ?? 10;
  const offset = query.offset ?? 0;
  if (offset > MAX_SEARCH_OFFSET) throw new QueryError(`cannot page past ${MAX_SEARCH_OFFSET} results: add words or filters instead`);
  const frequencies = documentFrequencies(db, terms);
  const now = Date.parse(query.now ?? new Date().toISOString());
  const all = rank(db, workspaceId, query, terms.join(' AND '), Math.min(...frequencies), now);
  const found = all.rows.length || terms.length === 1 ? { ...all, match: 'all-words' as const } : { ...rank(db, workspaceId, query, terms.join(' OR '), frequencies.reduce((a, b) => a + b, 0), now), match: 'any-word' as const };
  const rows = query.sort && query.sort !== 'relevance' ? [...found.rows].sort(orderBy(query.sort)) : found.rows;
  const page = rows.slice(offset, offset + limit);
  return { hits: page.map((row) => describe(db, workspaceId, row)), more: found.rows.length > offset + limit, match: found.match, strategy: found.strategy };
}

function orderBy(sort: Exclude<SearchQuery['sort'], 'relevance' | undefined>): (a: RankedRow, b: RankedRow) => number {
  const key = (r: RankedRow) => (sort === 'events' ? (r.count ?? 0) : sort === 'users' ? (r.user_count ?? 0) : Date.parse(r.last_seen ?? r.occurred_at ?? '') || 0);
  return (a, b) => key(b) - key(a) || b.score - a.score;
}

/** How many documents hold each term (all workspaces): cheap, from the FTS index's vocabulary. */
function documentFrequencies(db: SqliteDatabase, terms: string[]): number[] {
  const words = terms.map((t) => t.slice(1, -1).replaceAll('""', '"'));
  const rows = db.all(db.qb.selectFrom('agent_fts_vocab').select(['term', 'doc']).where('term', 'in', words));
  const byTerm = new Map(rows.map((r) => [r.term, Number(r.doc)]));
  return words.map((w) => byTerm.get(w) ?? 0);
}

interface RankedRow {
  kind: DocKind;
  /** The matched timeline entry's text, for observations. */
  summary?: string | null;
  ref_id: string;
  issue_id: string | null;
  occurred_at: string | null;
  short_id: string | null;
  title: string | null;
  project_slug: string | null;
  status: string | null;
  level: string | null;
  count: number | null;
  user_count: number | null;
  first_seen: string | null;
  last_seen: string | null;
  score: number;
}

function rank(db: SqliteDatabase, workspaceId: string, query: SearchQuery, match: string, estimate: number, now: number): { rows: RankedRow[]; strategy: SearchResult['strategy'] } {
  const strategy = estimate > RANK_ALL_LIMIT ? 'recent' : 'ranked';
  const kinds: readonly DocKind[] = query.kinds?.length ? query.kinds : DEFAULT_KINDS;
  const issueLevel = kinds.filter((k): k is IssueLevelKind => k !== 'observation');
  const documents = issueLevel.length ? rankDocuments(db, workspaceId, query, issueLevel, match, strategy, now) : [];
  const observations = kinds.includes('observation') ? rankObservations(db, workspaceId, query, match, now) : [];
  return { strategy, rows: [...documents, ...observations].sort(byScore) };
}

const byScore = (a: RankedRow, b: RankedRow) => b.score - a.score || (b.occurred_at ?? '').localeCompare(a.occurred_at ?? '') || a.ref_id.localeCompare(b.ref_id);

/** What a hit shows of the issue it belongs to. */
const ISSUE_COLUMNS = ['i.short_id', 'i.title', 'i.status', 'i.level', 'i.count', 'i.user_count', 'i.first_seen', 'i.last_seen'] as const;

/**
 * Timeline entries, from their own index (`search_fts`). Always newest matches first and bounded,
 * whatever the words: at a million entries, ranking every match of a frequent word is too slow.
 */
function rankObservations(db: SqliteDatabase, workspaceId: string, query: SearchQuery, match: string, now: number): RankedRow[] {
  let q = db.qb
    .selectFrom('search_fts')
    .innerJoin('search_docs as d', 'd.doc_id', 'search_fts.rowid')
    .leftJoin('issues as i', (join) => join.onRef('i.workspace_id', '=', 'd.workspace_id').onRef('i.id', '=', 'd.issue_id'))
    .select([
      'd.ref_id',
      'd.issue_id',
      'd.occurred_at',
      'd.title as summary',
      ...ISSUE_COLUMNS,
      (eb) => eb.fn.coalesce('d.project_slug', 'i.project_slug').as('project_slug'),
      sql<number>`bm25(search_fts, 5.0, 1.0)`.as('bm25'),
    ])
    .where(sql<boolean>`search_fts MATCH ${match}`)
    .where('d.workspace_id', '=', workspaceId)
    .where('d.kind', '=', 'observation');
  if (query.project) q = q.where(sql<boolean>`lower(coalesce(d.project_slug, i.project_slug)) = lower(${query.project})`);
  if (query.level) q = q.where('i.level', '=', query.level);
  if (query.status) q = q.where('i.status', '=', query.status);
  if (query.since) q = q.where('d.occurred_at', '>=', query.since);
  if (query.until) q = q.where('d.occurred_at', '<=', query.until);
  const rows = db.all(q.orderBy(sql`search_fts.rowid`, 'desc').limit(RECENT_CANDIDATES));
  const best = Math.max(1e-9, ...rows.map((r) => -r.bm25));
  return rows.map((r) => ({ ...r, kind: 'observation' as const, score: blend(-r.bm25 / best, r.occurred_at, r.count, r.user_count, now) }));
}

function rankDocuments(db: SqliteDatabase, workspaceId: string, query: SearchQuery, kinds: readonly IssueLevelKind[], match: string, strategy: SearchResult['strategy'], now: number): RankedRow[] {
  let q = db.qb
    .selectFrom('agent_fts')
    .innerJoin('agent_docs as d', 'd.row_id', 'agent_fts.rowid')
    .leftJoin('issues as i', (join) => join.onRef('i.workspace_id', '=', 'd.workspace_id').onRef('i.id', '=', 'd.issue_id'))
    .select([
      'd.kind',
      'd.ref_id',
      'd.issue_id',
      'd.occurred_at',
      ...ISSUE_COLUMNS,
      'i.project_slug',
      sql<number>`bm25(agent_fts, 4.0, 1.0)`.as('bm25'),
    ])
    .where(sql<boolean>`agent_fts MATCH ${match}`)
    .where('d.workspace_id', '=', workspaceId);
  q = q.where('d.kind', 'in', kinds);
  if (query.project) q = q.where(sql<boolean>`lower(i.project_slug) = lower(${query.project})`);
  if (query.level) q = q.where('i.level', '=', query.level);
  if (query.status) q = q.where('i.status', '=', query.status);
  if (query.since) q = q.where('d.occurred_at', '>=', query.since);
  if (query.until) q = q.where(sql<boolean>`(CASE WHEN d.kind = 'issue' THEN coalesce(i.first_seen, d.occurred_at) ELSE d.occurred_at END) <= ${query.until}`);
  if (query.environment) q = q.where(sql<boolean>`EXISTS (SELECT 1 FROM issue_facets f WHERE f.workspace_id = d.workspace_id AND f.facet = 'environment' AND f.value = ${query.environment} AND f.issue_id = d.issue_id)`);
  if (query.release) {
    const release = query.release;
    q = q.where(sql<boolean>`(i.first_release = ${release} OR i.last_release = ${release} OR EXISTS (SELECT 1 FROM issue_facets f WHERE f.workspace_id = d.workspace_id AND f.facet = 'release' AND f.value = ${release} AND f.issue_id = d.issue_id))`);
  }
  // Frequent words: FTS5 walks its doclists newest row first and stops, instead of scoring every match.
  if (strategy === 'recent') q = q.orderBy(sql`agent_fts.rowid`, 'desc').limit(RECENT_CANDIDATES);
  const rows = db.all(q);
  const best = Math.max(1e-9, ...rows.map((r) => -r.bm25));
  return rows.map((r) => ({ ...r, kind: r.kind as DocKind, score: blend(-r.bm25 / best, r.last_seen ?? r.occurred_at, r.count, r.user_count, now) }));
}

/**
 * Relevance first, then how recent and how big: a fresh issue hitting many users outranks an old
 * one-off with the same words. Weights are deliberately simple so answers are predictable.
 */
export function blend(relevance: number, lastActive: string | null, count: number | null, users: number | null, now: number): number {
  const ageDays = lastActive ? Math.max(0, (now - Date.parse(lastActive)) / 86_400_000) : 365;
  const recency = Math.pow(0.5, ageDays / 14);
  const impact = Math.min(1, (0.7 * Math.log10(1 + (count ?? 0))) / 5 + (0.3 * Math.log10(1 + (users ?? 0))) / 4);
  return Math.round((0.65 * relevance + 0.2 * recency + 0.15 * impact) * 1000) / 1000;
}

/** The line an agent reads for a hit: the issue's short id and title, or the matched comment, insight or alert. */
function describe(db: SqliteDatabase, workspaceId: string, row: RankedRow): SearchHit {
  return {
    kind: row.kind,
    id: row.ref_id,
    title: hitTitle(db, workspaceId, row),
    occurredAt: row.occurred_at,
    issueId: row.issue_id,
    shortId: row.short_id,
    project: row.project_slug,
    status: row.status,
    level: row.level,
    count: row.count,
    userCount: row.user_count,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    score: row.score,
  };
}

function hitTitle(db: SqliteDatabase, workspaceId: string, row: RankedRow): string {
  const issueLabel = [row.short_id, row.title].filter(Boolean).join(' ');
  switch (row.kind) {
    case 'issue':
      return issueLabel || `issue ${row.ref_id}`;
    case 'comment': {
      const c = db.get(db.qb.selectFrom('comments').select(['text', 'author_name']).where('workspace_id', '=', workspaceId).where('id', '=', row.ref_id));
      return `${c?.author_name ?? 'someone'} on ${row.short_id ?? row.issue_id}: ${clip(c?.text ?? '', 160)}`;
    }
    case 'insight': {
      const [issueId, runId, stage] = splitInsightRef(row.ref_id);
      const s = db.get(db.qb.selectFrom('insights').select('summary').where('workspace_id', '=', workspaceId).where('issue_id', '=', issueId).where('run_id', '=', runId).where('stage', '=', stage));
      return `Seer ${stage.replaceAll('_', ' ')} for ${row.short_id ?? issueId}: ${clip(s?.summary ?? '', 160)}`;
    }
    case 'observation':
      return row.summary ?? row.ref_id;
    case 'alert': {
      const a = db.get(db.qb.selectFrom('alerts').select(['title', 'state']).where('workspace_id', '=', workspaceId).where('id', '=', row.ref_id));
      return `Alert "${a?.title ?? row.ref_id}" (${a?.state ?? 'unknown'})${row.short_id ? ` on ${row.short_id}` : ''}`;
    }
  }
}

/** Insight document ids are `issue:run:stage`; issue ids and stages have no colon, run ids might. */
function splitInsightRef(ref: string): [string, string, string] {
  const first = ref.indexOf(':');
  const last = ref.lastIndexOf(':');
  return [ref.slice(0, first), ref.slice(first + 1, last), ref.slice(last + 1)];
}

export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
