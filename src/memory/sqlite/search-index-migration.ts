/**
 * SQLite's full-text indexes, version 2 (migration 8). Two changes:
 *
 * **Indexed at commit, not per statement.** FTS5 writes its pending terms to disk at every savepoint,
 * and SQLite opens one for each statement of a transaction that writes through a trigger. With the
 * indexes written by triggers, every statement after the first index write flushed a tiny segment,
 * and merging those cost more the bigger the index grew: the bench's memory took 6 s for its first
 * 100,000 records and 105 s for its third. Triggers now only note which documents changed (in
 * `fts_pending`, an ordinary table, so a rolled-back savepoint takes its notes with it), and
 * `flushSearchIndexes` indexes them all in a few statements just before the transaction commits
 * (database.ts). The same 300,000 records: 19.5 s instead of 245 s.
 *
 * **Search filters inside the issue-level index.** Every document in `agent_fts` also carries its
 * issue's project, level and status as filter tokens (column `facets`), so a search with a selective
 * filter intersects the filter's doclist with the words' inside FTS5 instead of reading every match
 * of a frequent word to test its issue. A token is a prefix and the value's UTF-8 bytes in hex
 * (`xp` + hex("checkout")), so any value is one token and none is a word of text; `filterTokens` in
 * search.ts builds the same. The filters themselves are still applied in SQL: the tokens only narrow
 * what is read. When an issue's status or level changes without its text (resolving, archiving), its
 * documents keep their row ids (their place in "most recently active first") and are re-indexed.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { insightRef } from '../shared-sql.js';
import { issueBody, issueChanged, issueTitle } from './read-side-migration.js';

/** The filter tokens of the issue row `r`, as FTS5 will index them. */
const issueFacets = (r: string) =>
  `concat_ws(' ', 'xp' || nullif(hex(lower(${r}.project_slug)), ''), 'xl' || nullif(hex(${r}.level), ''), 'xs' || nullif(hex(${r}.status), ''))`;

/** Notes that document `rowid` of index `idx` ('agent' or 'search') is to be indexed at commit. */
const queueInsert = (idx: string, rowid: string) => `
  INSERT INTO fts_pending (idx, op, rowid) SELECT '${idx}', 'insert', ${rowid}
   WHERE ${rowid} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE idx = '${idx}' AND op = 'insert' AND rowid = ${rowid});`;

/**
 * Notes that document `rowid` leaves the index at commit. A document still waiting to be indexed
 * was never in it: its note is dropped instead. `search_fts` takes its content from `search_docs`,
 * and FTS5 removes such a row only given the text it indexed, so that text is kept with the note.
 */
const queueDelete = (
  idx: string,
  rowid: string,
  text: { title: string; body: string } = { title: 'NULL', body: 'NULL' },
) => `
  INSERT INTO fts_pending (idx, op, rowid, title, body) SELECT '${idx}', 'delete', ${rowid}, ${text.title}, ${text.body}
   WHERE ${rowid} IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE idx = '${idx}' AND rowid = ${rowid});
  DELETE FROM fts_pending WHERE idx = '${idx}' AND op = 'insert' AND rowid = ${rowid};`;

const docRow = (kind: string, ws: string, ref: string) =>
  `(SELECT row_id FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref})`;

/** Drops a document and gives it a fresh row id (its place as "most recently active"), to be indexed at commit. */
function reindex(kind: string, ws: string, ref: string, issueId: string, occurredAt: string): string {
  return `${queueDelete('agent', docRow(kind, ws, ref))}
  DELETE FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref};
  INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at) VALUES (${ws}, '${kind}', ${ref}, ${issueId}, ${occurredAt});${queueInsert('agent', 'last_insert_rowid()')}`;
}

/** Re-indexes the documents of issue `new` (all of them, or all but its own), keeping their row ids. */
const refresh = (which: 'all' | 'related') => `
  INSERT INTO fts_pending (idx, op, rowid)
    SELECT 'agent', 'delete', d.row_id FROM agent_docs d
     WHERE d.workspace_id = new.workspace_id AND d.issue_id = new.id${which === 'related' ? " AND d.kind <> 'issue'" : ''}
       AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE idx = 'agent' AND rowid = d.row_id);
  INSERT INTO fts_pending (idx, op, rowid)
    SELECT 'agent', 'insert', d.row_id FROM agent_docs d
     WHERE d.workspace_id = new.workspace_id AND d.issue_id = new.id${which === 'related' ? " AND d.kind <> 'issue'" : ''}
       AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE idx = 'agent' AND op = 'insert' AND rowid = d.row_id);`;

const facetChanged =
  'new.status IS NOT old.status OR new.level IS NOT old.level OR new.project_slug IS NOT old.project_slug';

export const searchIndexMigrationSql = `
DROP TRIGGER agent_issue_ai;
DROP TRIGGER agent_issue_au;
DROP TRIGGER agent_comment_ai;
DROP TRIGGER agent_comment_au;
DROP TRIGGER agent_insight_ai;
DROP TRIGGER agent_insight_au;
DROP TRIGGER agent_alert_ai;
DROP TRIGGER agent_alert_au;
DROP TRIGGER search_docs_ai;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_au;
DROP TABLE agent_fts_vocab;
DROP TABLE agent_fts;
CREATE VIRTUAL TABLE agent_fts USING fts5(title, body, facets, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE agent_fts_vocab USING fts5vocab(agent_fts, row);
-- An issue's documents, whose filter tokens follow the issue's.
CREATE INDEX agent_docs_issue ON agent_docs (workspace_id, issue_id);

-- Documents to (un)index when the transaction commits; empty between transactions.
CREATE TABLE fts_pending (
  idx TEXT NOT NULL, op TEXT NOT NULL, rowid INTEGER NOT NULL, title TEXT, body TEXT,
  PRIMARY KEY (idx, rowid, op)
) WITHOUT ROWID;

CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN ${queueInsert('search', 'new.doc_id')}
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN ${queueDelete('search', 'old.doc_id', { title: 'old.title', body: 'old.body' })}
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF title, body ON search_docs BEGIN ${queueDelete('search', 'old.doc_id', { title: 'old.title', body: 'old.body' })}${queueInsert('search', 'new.doc_id')}
END;

CREATE TRIGGER agent_issue_ai AFTER INSERT ON issues BEGIN ${reindex('issue', 'new.workspace_id', 'new.id', 'new.id', 'coalesce(new.last_seen, new.first_seen)')}${refresh('related')}
END;
CREATE TRIGGER agent_issue_au AFTER UPDATE ON issues WHEN ${issueChanged} BEGIN ${reindex('issue', 'new.workspace_id', 'new.id', 'new.id', 'coalesce(new.last_seen, new.first_seen)')}
END;
CREATE TRIGGER agent_issue_facets_au AFTER UPDATE ON issues WHEN ${facetChanged} BEGIN ${refresh('all')}
END;

CREATE TRIGGER agent_comment_ai AFTER INSERT ON comments WHEN new.deleted = 0 AND new.text IS NOT NULL BEGIN ${reindex('comment', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.created_at')}
END;
CREATE TRIGGER agent_comment_au AFTER UPDATE ON comments WHEN new.text IS NOT old.text OR new.deleted IS NOT old.deleted BEGIN ${queueDelete('agent', docRow('comment', 'old.workspace_id', 'old.id'))}
  DELETE FROM agent_docs WHERE workspace_id = old.workspace_id AND kind = 'comment' AND ref_id = old.id;
  INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
    SELECT new.workspace_id, 'comment', new.id, new.issue_id, new.created_at WHERE new.deleted = 0 AND new.text IS NOT NULL;${queueInsert('agent', docRow('comment', 'new.workspace_id', 'new.id'))}
END;

CREATE TRIGGER agent_insight_ai AFTER INSERT ON insights WHEN new.summary IS NOT NULL BEGIN ${reindex('insight', 'new.workspace_id', insightRef('new'), 'new.issue_id', 'new.at')}
END;
CREATE TRIGGER agent_insight_au AFTER UPDATE ON insights WHEN new.summary IS NOT NULL AND new.summary IS NOT old.summary BEGIN ${reindex('insight', 'new.workspace_id', insightRef('new'), 'new.issue_id', 'new.at')}
END;

CREATE TRIGGER agent_alert_ai AFTER INSERT ON alerts BEGIN ${reindex('alert', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.started_at')}
END;
CREATE TRIGGER agent_alert_au AFTER UPDATE ON alerts WHEN new.title IS NOT old.title OR new.description IS NOT old.description OR new.issue_id IS NOT old.issue_id BEGIN ${reindex('alert', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.started_at')}
END;

-- Re-index every issue-level document (with its filter tokens) at the end of this migration.
INSERT INTO fts_pending (idx, op, rowid) SELECT 'agent', 'insert', row_id FROM agent_docs;
`;

/** Each kind of issue-level document: its table (x), how it joins `agent_docs d`, and its indexed text. */
const DOCUMENTS = [
  {
    kind: 'issue',
    join: 'issues x ON x.workspace_id = d.workspace_id AND x.id = d.ref_id',
    title: issueTitle('x'),
    body: issueBody('x'),
  },
  {
    kind: 'comment',
    join: 'comments x ON x.workspace_id = d.workspace_id AND x.id = d.ref_id',
    title: "''",
    body: 'x.text',
  },
  {
    kind: 'insight',
    join: `insights x ON x.workspace_id = d.workspace_id AND x.issue_id = d.issue_id AND ${insightRef('x')} = d.ref_id`,
    title: 'x.stage',
    body: 'x.summary',
  },
  {
    kind: 'alert',
    join: 'alerts x ON x.workspace_id = d.workspace_id AND x.id = d.ref_id',
    title: 'x.title',
    body: "concat_ws(' ', x.rule_name, x.description)",
  },
];

/** Statements of `flushSearchIndexes`, prepared once per connection. */
const flushStatements = new WeakMap<
  BetterSqlite3.Database,
  { pending: BetterSqlite3.Statement; run: BetterSqlite3.Statement[] }
>();

function statementsFor(db: BetterSqlite3.Database) {
  let statements = flushStatements.get(db);
  if (!statements) {
    const noted = (idx: string, op: string) => `SELECT rowid FROM fts_pending WHERE idx = '${idx}' AND op = '${op}'`;
    // Removals first (a re-indexed row id is removed, then added), then additions in row id order.
    statements = {
      pending: db.prepare('SELECT 1 FROM fts_pending LIMIT 1'),
      run: [
        `DELETE FROM agent_fts WHERE rowid IN (${noted('agent', 'delete')})`,
        ...DOCUMENTS.map(
          (k) => `INSERT INTO agent_fts (rowid, title, body, facets)
            SELECT d.row_id, ${k.title}, ${k.body}, ${issueFacets('i')}
              FROM agent_docs d JOIN ${k.join} LEFT JOIN issues i ON i.workspace_id = d.workspace_id AND i.id = d.issue_id
             WHERE d.row_id IN (${noted('agent', 'insert')}) AND d.kind = '${k.kind}'
             ORDER BY d.row_id`,
        ),
        "INSERT INTO search_fts (search_fts, rowid, title, body) SELECT 'delete', rowid, title, body FROM fts_pending WHERE idx = 'search' AND op = 'delete'",
        `INSERT INTO search_fts (rowid, title, body) SELECT doc_id, title, body FROM search_docs WHERE doc_id IN (${noted('search', 'insert')}) ORDER BY doc_id`,
        'DELETE FROM fts_pending',
      ].map((sql) => db.prepare(sql)),
    };
    flushStatements.set(db, statements);
  }
  return statements;
}

/**
 * Indexes the documents noted since the last flush; called inside each write transaction just before
 * it commits (and once after migrating), so FTS5 writes each transaction's terms in one segment.
 */
export function flushSearchIndexes(db: BetterSqlite3.Database): void {
  const { pending, run } = statementsFor(db);
  if (!pending.get()) return;
  for (const statement of run) statement.run();
}
