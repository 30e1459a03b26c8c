import { sql, type RawBuilder } from 'kysely';
import type { MemoryDatabase } from '../database.js';
import { QueryError } from './errors.js';
import { clip } from '../../text.js';

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
  /** What "now" is for recency, in epoch ms (the caller's clock: a search never reads the wall clock). */
  now: number;
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
  return [...new Set((text.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).map((t) => t.toLowerCase()))].map(
    (t) => `"${t.replaceAll('"', '""')}"`,
  );
}

/**
 * Issue-level search: BM25 (title weighted over body) blended with recency and impact. All words
 * must match; when that finds nothing, any word may, so a long agent question still gets its best
 * partial matches.
 */
export async function searchMemory(db: MemoryDatabase, workspaceId: string, query: SearchQuery): Promise<SearchResult> {
  const terms = ftsTerms(query.text);
  if (!terms.length)
    throw new QueryError(
      'query has no words to search for: pass words such as an error type, message, function or file name',
    );
  const limit = query.limit ?? 10;
  const offset = query.offset ?? 0;
  if (offset > MAX_SEARCH_OFFSET)
    throw new QueryError(`cannot page past ${MAX_SEARCH_OFFSET} results: add words or filters instead`);
  const frequencies = await documentFrequencies(db, workspaceId, terms);
  const idf = db.engine === 'postgres' ? inverseFrequencies(frequencies, await documentCount(db, workspaceId)) : [];
  const filters = db.engine === 'sqlite' ? filterTokens(query) : [];
  // A document must hold every filter token, so the rarest one bounds the matches too.
  const filtered = filters.length
    ? Math.min(
        ...(await documentFrequencies(
          db,
          workspaceId,
          filters.map((t) => `"${t}"`),
        )),
      )
    : Infinity;
  const all = await rank(
    db,
    workspaceId,
    query,
    { terms, every: true, idf, filters },
    Math.min(filtered, ...frequencies),
    query.now,
  );
  const found =
    all.rows.length || terms.length === 1
      ? { ...all, match: 'all-words' as const }
      : {
          ...(await rank(
            db,
            workspaceId,
            query,
            { terms, every: false, idf, filters },
            Math.min(
              filtered,
              frequencies.reduce((a, b) => a + b, 0),
            ),
            query.now,
          )),
          match: 'any-word' as const,
        };
  const rows = query.sort && query.sort !== 'relevance' ? [...found.rows].sort(orderBy(query.sort)) : found.rows;
  const page = rows.slice(offset, offset + limit);
  return {
    hits: await Promise.all(page.map((row) => describe(db, workspaceId, row))),
    more: found.rows.length > offset + limit,
    match: found.match,
    strategy: found.strategy,
  };
}

function orderBy(sort: Exclude<SearchQuery['sort'], 'relevance' | undefined>): (a: RankedRow, b: RankedRow) => number {
  const key = (r: RankedRow) =>
    sort === 'events'
      ? (r.count ?? 0)
      : sort === 'users'
        ? (r.user_count ?? 0)
        : Date.parse(r.last_seen ?? r.occurred_at ?? '') || 0;
  return (a, b) => key(b) - key(a) || b.score - a.score;
}

/**
 * The words to match: all of them, or any; on PostgreSQL, how much each weighs (its inverse document
 * frequency); on SQLite, the filter tokens every issue-level document must also hold.
 */
interface Match {
  terms: string[];
  every: boolean;
  idf: number[];
  filters: string[];
}

/**
 * The issue-level index's tokens for a search's project, level and status filters (see
 * sqlite/search-index-migration.ts, which writes them): a prefix and the value's UTF-8 bytes in hex. The
 * project is folded to lower case as SQL's lower() folds it (ASCII only), like the filter itself.
 */
export function filterTokens(filters: SearchFilters): string[] {
  const token = (prefix: string, value: string) => prefix + Buffer.from(value, 'utf8').toString('hex');
  const tokens: string[] = [];
  if (filters.project)
    tokens.push(
      token(
        'xp',
        filters.project.replace(/[A-Z]/g, (c) => c.toLowerCase()),
      ),
    );
  if (filters.level) tokens.push(token('xl', filters.level));
  if (filters.status) tokens.push(token('xs', filters.status));
  return tokens;
}

/**
 * BM25's inverse document frequency: a rare word that matches says more than a common one. FTS5's
 * bm25() has it built in; PostgreSQL's ranking functions do not, so relevance there weighs each word's rank by it.
 */
function inverseFrequencies(frequencies: number[], documents: number): number[] {
  return frequencies.map((n) => Math.log(1 + (Math.max(documents, n) - n + 0.5) / (n + 0.5)));
}

/** About how many issue-level documents there are: the planner's estimate, or a count while the table has none. */
async function documentCount(db: MemoryDatabase, workspaceId: string): Promise<number> {
  const estimate = await db.get(
    db.qb
      .selectFrom(sql<{ reltuples: number }>`pg_class`.as('c'))
      .select(sql<number>`reltuples`.as('n'))
      .where(sql<boolean>`oid = 'agent_docs'::regclass`),
  );
  if (estimate && estimate.n >= 1000) return estimate.n;
  const counted = await db.get(
    db.qb
      .selectFrom('agent_docs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId),
  );
  return Number(counted?.n ?? 0);
}

const wordOf = (term: string) => term.slice(1, -1).replaceAll('""', '"');

/** FTS5 MATCH syntax: quoted terms joined by AND or OR, and the filter tokens in their own column. */
const fts5Query = (m: Match, filtered: boolean) => {
  const words = m.terms.join(m.every ? ' AND ' : ' OR ');
  return filtered && m.filters.length
    ? `(${words}) AND ${m.filters.map((t) => `facets : "${t}"`).join(' AND ')}`
    : words;
};

/** PostgreSQL tsquery of the same words (letters, digits and underscores only, so nothing needs quoting). */
const tsQuery = (m: Pick<Match, 'terms' | 'every'>) =>
  sql`to_tsquery('simple', ${m.terms.map(wordOf).join(m.every ? ' & ' : ' | ')})`;

/**
 * How many documents hold each term. SQLite: cheap, from the FTS index's vocabulary (all workspaces).
 * PostgreSQL: counted in the workspace's GIN index, up to the point where it changes the strategy.
 */
async function documentFrequencies(db: MemoryDatabase, workspaceId: string, terms: string[]): Promise<number[]> {
  const words = terms.map(wordOf);
  if (db.engine === 'postgres') {
    const counts: number[] = [];
    for (const term of terms) {
      const matches = db.qb
        .selectFrom('agent_docs')
        .select(sql.lit(1).as('x'))
        .where('workspace_id', '=', workspaceId)
        .where(sql<boolean>`tsv @@ ${tsQuery({ terms: [term], every: true })}`)
        .limit(RANK_ALL_LIMIT + 1);
      const row = await db.get(db.qb.selectFrom(matches.as('m')).select((eb) => eb.fn.countAll<number>().as('n')));
      counts.push(Number(row?.n ?? 0));
    }
    return counts;
  }
  const rows = await db.all(db.qb.selectFrom('agent_fts_vocab').select(['term', 'doc']).where('term', 'in', words));
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

async function rank(
  db: MemoryDatabase,
  workspaceId: string,
  query: SearchQuery,
  match: Match,
  estimate: number,
  now: number,
): Promise<{ rows: RankedRow[]; strategy: SearchResult['strategy'] }> {
  const strategy = estimate > RANK_ALL_LIMIT ? 'recent' : 'ranked';
  const kinds: readonly DocKind[] = query.kinds?.length ? query.kinds : DEFAULT_KINDS;
  const issueLevel = kinds.filter((k): k is IssueLevelKind => k !== 'observation');
  const documents = issueLevel.length
    ? await rankDocuments(db, workspaceId, query, issueLevel, match, strategy, now)
    : [];
  const observations = kinds.includes('observation') ? await rankObservations(db, workspaceId, query, match, now) : [];
  return { strategy, rows: [...documents, ...observations].sort(byScore) };
}

const byScore = (a: RankedRow, b: RankedRow) =>
  b.score - a.score || (b.occurred_at ?? '').localeCompare(a.occurred_at ?? '') || a.ref_id.localeCompare(b.ref_id);

/** What a hit shows of the issue it belongs to. */
const ISSUE_COLUMNS = [
  'i.short_id',
  'i.title',
  'i.status',
  'i.level',
  'i.count',
  'i.user_count',
  'i.first_seen',
  'i.last_seen',
] as const;

/**
 * Ranking weights of title over body: FTS5's bm25 column weights, and ts_rank_cd's {D, C, B, A}
 * weights. ts_rank_cd (cover density) grows with every weighted occurrence, as BM25's term frequency
 * does; plain ts_rank barely tells one occurrence from three, which flattened relevance under recency.
 */
const OBSERVATION_WEIGHTS = { bm25: sql`5.0, 1.0`, tsRank: sql.lit('{0, 0, 0.2, 1}') };
const DOCUMENT_WEIGHTS = { bm25: sql`4.0, 1.0, 0.0`, tsRank: sql.lit('{0, 0, 0.25, 1}') };

/** Filters on a document `d` and its issue `i`, the same SQL on both engines. */
function documentFilters(query: SearchQuery, observations: boolean): RawBuilder<boolean>[] {
  const filters: RawBuilder<boolean>[] = [];
  const project = observations ? sql`coalesce(d.project_slug, i.project_slug)` : sql`i.project_slug`;
  if (query.project) filters.push(sql<boolean>`lower(${project}) = lower(${query.project})`);
  if (query.level) filters.push(sql<boolean>`i.level = ${query.level}`);
  if (query.status) filters.push(sql<boolean>`i.status = ${query.status}`);
  if (query.since) filters.push(sql<boolean>`d.occurred_at >= ${query.since}`);
  if (query.until) {
    filters.push(
      observations
        ? sql<boolean>`d.occurred_at <= ${query.until}`
        : sql<boolean>`(CASE WHEN d.kind = 'issue' THEN coalesce(i.first_seen, d.occurred_at) ELSE d.occurred_at END) <= ${query.until}`,
    );
  }
  if (observations) return filters;
  if (query.environment)
    filters.push(
      sql<boolean>`EXISTS (SELECT 1 FROM issue_facets f WHERE f.workspace_id = d.workspace_id AND f.facet = 'environment' AND f.value = ${query.environment} AND f.issue_id = d.issue_id)`,
    );
  if (query.release) {
    const release = query.release;
    filters.push(
      sql<boolean>`(i.first_release = ${release} OR i.last_release = ${release} OR EXISTS (SELECT 1 FROM issue_facets f WHERE f.workspace_id = d.workspace_id AND f.facet = 'release' AND f.value = ${release} AND f.issue_id = d.issue_id))`,
    );
  }
  return filters;
}

/**
 * The engine's full-text part of a search over `table` (alias d): what joins the index, how relevant
 * a match is (higher is better), which rows match, and the "newest first" order of the index.
 * SQLite: an FTS5 table whose rowid is the document's; PostgreSQL: the document's own tsvector (GIN).
 */
function fullText(
  db: MemoryDatabase,
  index: 'search_fts' | 'agent_fts',
  key: 'doc_id' | 'row_id',
  match: Match,
  weights: typeof DOCUMENT_WEIGHTS,
) {
  if (db.engine === 'postgres') {
    // Each word's rank times its inverse document frequency, summed, as BM25 sums its words' scores.
    const ranks = match.terms.map(
      (term, i) =>
        sql`${sql.lit(Number((match.idf[i] ?? 1).toFixed(6)))} * ts_rank_cd(${weights.tsRank}::float4[], d.tsv, ${tsQuery({ ...match, terms: [term] })})`,
    );
    return {
      relevance: sql<number>`(${sql.join(ranks, sql` + `)})`,
      matches: sql<boolean>`d.tsv @@ ${tsQuery(match)}`,
      newest: sql`d.${sql.ref(key)}`,
    };
  }
  return {
    relevance: sql<number>`-bm25(${sql.table(index)}, ${weights.bm25})`,
    matches: sql<boolean>`${sql.table(index)} MATCH ${fts5Query(match, index === 'agent_fts')}`,
    newest: sql`${sql.table(index)}.rowid`,
  };
}

/**
 * Timeline entries, from their own index (`search_docs`). Always newest matches first and bounded,
 * whatever the words: at a million entries, ranking every match of a frequent word is too slow.
 */
async function rankObservations(
  db: MemoryDatabase,
  workspaceId: string,
  query: SearchQuery,
  match: Match,
  now: number,
): Promise<RankedRow[]> {
  const text = fullText(db, 'search_fts', 'doc_id', match, OBSERVATION_WEIGHTS);
  const documents = db.qb.selectFrom('search_docs as d');
  // SQLite reads the FTS5 table first (MATCH drives the plan); its columns are only used through `text`.
  const from =
    db.engine === 'sqlite'
      ? (db.qb
          .selectFrom('search_fts')
          .innerJoin('search_docs as d', 'd.doc_id', 'search_fts.rowid') as unknown as typeof documents)
      : documents;
  let q = from
    .leftJoin('issues as i', (join) =>
      join.onRef('i.workspace_id', '=', 'd.workspace_id').onRef('i.id', '=', 'd.issue_id'),
    )
    .select([
      'd.ref_id',
      'd.issue_id',
      'd.occurred_at',
      'd.title as summary',
      ...ISSUE_COLUMNS,
      (eb) => eb.fn.coalesce('d.project_slug', 'i.project_slug').as('project_slug'),
      text.relevance.as('relevance'),
    ])
    .where(text.matches)
    .where('d.workspace_id', '=', workspaceId)
    .where('d.kind', '=', 'observation');
  for (const filter of documentFilters(query, true)) q = q.where(filter);
  const rows = await db.all(q.orderBy(text.newest, 'desc').limit(RECENT_CANDIDATES));
  const best = Math.max(1e-9, ...rows.map((r) => r.relevance));
  return rows.map((r) => ({
    ...r,
    kind: 'observation' as const,
    score: blend(r.relevance / best, r.occurred_at, r.count, r.user_count, now),
  }));
}

async function rankDocuments(
  db: MemoryDatabase,
  workspaceId: string,
  query: SearchQuery,
  kinds: readonly IssueLevelKind[],
  match: Match,
  strategy: SearchResult['strategy'],
  now: number,
): Promise<RankedRow[]> {
  const text = fullText(db, 'agent_fts', 'row_id', match, DOCUMENT_WEIGHTS);
  const documents = db.qb.selectFrom('agent_docs as d');
  const from =
    db.engine === 'sqlite'
      ? (db.qb
          .selectFrom('agent_fts')
          .innerJoin('agent_docs as d', 'd.row_id', 'agent_fts.rowid') as unknown as typeof documents)
      : documents;
  let q = from
    .leftJoin('issues as i', (join) =>
      join.onRef('i.workspace_id', '=', 'd.workspace_id').onRef('i.id', '=', 'd.issue_id'),
    )
    .select([
      'd.kind',
      'd.ref_id',
      'd.issue_id',
      'd.occurred_at',
      ...ISSUE_COLUMNS,
      'i.project_slug',
      text.relevance.as('relevance'),
    ])
    .where(text.matches)
    .where('d.workspace_id', '=', workspaceId)
    .where('d.kind', 'in', kinds);
  for (const filter of documentFilters(query, false)) q = q.where(filter);
  // Frequent words: walk the index newest document first and stop (FTS5 doclists in rowid order;
  // on PostgreSQL, the primary key's row ids), instead of scoring every match.
  if (strategy === 'recent') q = q.orderBy(text.newest, 'desc').limit(RECENT_CANDIDATES);
  const rows = await db.all(q);
  const best = Math.max(1e-9, ...rows.map((r) => r.relevance));
  // A comment holding every word is a mention, however wordy: it weighs as much as the best-matching
  // comment, and how recently it was said (not its issue's activity or size) orders it.
  const mention = match.every
    ? Math.max(1e-9, ...rows.filter((r) => r.kind === 'comment').map((r) => r.relevance))
    : null;
  return rows.map((r) => {
    const score =
      r.kind === 'comment'
        ? blend((mention ?? r.relevance) / best, r.occurred_at, null, null, now)
        : blend(r.relevance / best, r.last_seen ?? r.occurred_at, r.count, r.user_count, now);
    return { ...r, kind: r.kind as DocKind, score };
  });
}

/**
 * Relevance first, then how recent and how big: a fresh issue hitting many users outranks an old
 * one-off with the same words. Weights are deliberately simple so answers are predictable.
 */
export function blend(
  relevance: number,
  lastActive: string | null,
  count: number | null,
  users: number | null,
  now: number,
): number {
  const ageDays = lastActive ? Math.max(0, (now - Date.parse(lastActive)) / 86_400_000) : 365;
  const recency = Math.pow(0.5, ageDays / 14);
  const impact = Math.min(1, (0.7 * Math.log10(1 + (count ?? 0))) / 5 + (0.3 * Math.log10(1 + (users ?? 0))) / 4);
  return Math.round((0.65 * relevance + 0.2 * recency + 0.15 * impact) * 1000) / 1000;
}

/** The line an agent reads for a hit: the issue's short id and title, or the matched comment, insight or alert. */
async function describe(db: MemoryDatabase, workspaceId: string, row: RankedRow): Promise<SearchHit> {
  return {
    kind: row.kind,
    id: row.ref_id,
    title: await hitTitle(db, workspaceId, row),
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

async function hitTitle(db: MemoryDatabase, workspaceId: string, row: RankedRow): Promise<string> {
  const issueLabel = [row.short_id, row.title].filter(Boolean).join(' ');
  switch (row.kind) {
    case 'issue':
      return issueLabel || `issue ${row.ref_id}`;
    case 'comment': {
      const c = await db.get(
        db.qb
          .selectFrom('comments')
          .select(['text', 'author_name'])
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', row.ref_id),
      );
      return `${c?.author_name ?? 'someone'} on ${row.short_id ?? row.issue_id}: ${clip(c?.text ?? '', 160)}`;
    }
    case 'insight': {
      const [issueId, runId, stage] = splitInsightRef(row.ref_id);
      const s = await db.get(
        db.qb
          .selectFrom('insights')
          .select('summary')
          .where('workspace_id', '=', workspaceId)
          .where('issue_id', '=', issueId)
          .where('run_id', '=', runId)
          .where('stage', '=', stage),
      );
      return `Seer ${stage.replaceAll('_', ' ')} for ${row.short_id ?? issueId}: ${clip(s?.summary ?? '', 160)}`;
    }
    case 'observation':
      return row.summary ?? row.ref_id;
    case 'alert': {
      const a = await db.get(
        db.qb
          .selectFrom('alerts')
          .select(['title', 'state'])
          .where('workspace_id', '=', workspaceId)
          .where('id', '=', row.ref_id),
      );
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
