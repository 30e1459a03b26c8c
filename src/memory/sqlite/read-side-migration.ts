/**
 * Schema of the agent read side (migration 3): an issue-level full-text index, per-issue facets for
 * filtering, and API keys.
 *
 * Why a second FTS index: `search_fts` also holds every observation (a million at scale), whose
 * summaries repeat issue titles, so a frequent word such as "TypeError" matches most of it. Agents
 * search for issues, so `agent_fts` holds only issue-level documents (issues, comments, Seer
 * insights, alerts) and is kept up to date by triggers, so no writer has to know about it.
 *
 * `agent_docs.row_id` is re-allocated (AUTOINCREMENT) whenever an issue's text or last-seen time
 * changes: FTS5 rowid order is then "most recently active first", which is what lets a query made
 * only of very frequent words read the newest matches (`ORDER BY rowid DESC LIMIT n`) instead of
 * ranking every match.
 */

import {
  insightRef,
  issueBody as sharedIssueBody,
  issueDocumentChanged,
  issueTitle as sharedIssueTitle,
} from '../shared-sql.js';

/** Title and body of an issue's document, from the `issues` row `r`. */
export const issueTitle = sharedIssueTitle;
export const issueBody = (r: string) =>
  sharedIssueBody(
    r,
    `
    (SELECT group_concat(concat_ws(' ', json_extract(f.value, '$.function'), json_extract(f.value, '$.filename')), ' ')
       FROM json_each(CASE WHEN json_valid(${r}.top_frames) THEN ${r}.top_frames ELSE '[]' END) AS f)`,
  );

/** Statements that (re)index one document: drop its old FTS row, allocate a fresh row id, index it. */
function reindex(
  kind: string,
  ws: string,
  ref: string,
  issueId: string,
  occurredAt: string,
  title: string,
  body: string,
): string {
  return `
  DELETE FROM agent_fts WHERE rowid = (SELECT row_id FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref});
  DELETE FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref};
  INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at) VALUES (${ws}, '${kind}', ${ref}, ${issueId}, ${occurredAt});
  INSERT INTO agent_fts (rowid, title, body) VALUES (last_insert_rowid(), ${title}, ${body});`;
}

function unindex(kind: string, ws: string, ref: string): string {
  return `
  DELETE FROM agent_fts WHERE rowid = (SELECT row_id FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref});
  DELETE FROM agent_docs WHERE workspace_id = ${ws} AND kind = '${kind}' AND ref_id = ${ref};`;
}

export const issueChanged = issueDocumentChanged('IS NOT');

export const readSideMigrationSql = `
CREATE TABLE agent_docs (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL, kind TEXT NOT NULL, ref_id TEXT NOT NULL, issue_id TEXT, occurred_at TEXT,
  UNIQUE (workspace_id, kind, ref_id)
);
CREATE VIRTUAL TABLE agent_fts USING fts5(title, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE agent_fts_vocab USING fts5vocab(agent_fts, row);

CREATE TRIGGER agent_issue_ai AFTER INSERT ON issues BEGIN ${reindex('issue', 'new.workspace_id', 'new.id', 'new.id', 'coalesce(new.last_seen, new.first_seen)', issueTitle('new'), issueBody('new'))}
END;
CREATE TRIGGER agent_issue_au AFTER UPDATE ON issues WHEN ${issueChanged} BEGIN ${reindex('issue', 'new.workspace_id', 'new.id', 'new.id', 'coalesce(new.last_seen, new.first_seen)', issueTitle('new'), issueBody('new'))}
END;

CREATE TRIGGER agent_comment_ai AFTER INSERT ON comments WHEN new.deleted = 0 AND new.text IS NOT NULL BEGIN ${reindex('comment', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.created_at', "''", 'new.text')}
END;
CREATE TRIGGER agent_comment_au AFTER UPDATE ON comments WHEN new.text IS NOT old.text OR new.deleted IS NOT old.deleted BEGIN ${unindex('comment', 'old.workspace_id', 'old.id')}
  INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
    SELECT new.workspace_id, 'comment', new.id, new.issue_id, new.created_at WHERE new.deleted = 0 AND new.text IS NOT NULL;
  INSERT INTO agent_fts (rowid, title, body)
    SELECT row_id, '', new.text FROM agent_docs WHERE workspace_id = new.workspace_id AND kind = 'comment' AND ref_id = new.id;
END;

CREATE TRIGGER agent_insight_ai AFTER INSERT ON insights WHEN new.summary IS NOT NULL BEGIN ${reindex('insight', 'new.workspace_id', insightRef('new'), 'new.issue_id', 'new.at', 'new.stage', 'new.summary')}
END;
CREATE TRIGGER agent_insight_au AFTER UPDATE ON insights WHEN new.summary IS NOT NULL AND new.summary IS NOT old.summary BEGIN ${reindex('insight', 'new.workspace_id', insightRef('new'), 'new.issue_id', 'new.at', 'new.stage', 'new.summary')}
END;

CREATE TRIGGER agent_alert_ai AFTER INSERT ON alerts BEGIN ${reindex('alert', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.started_at', 'new.title', "concat_ws(' ', new.rule_name, new.description)")}
END;
CREATE TRIGGER agent_alert_au AFTER UPDATE ON alerts WHEN new.title IS NOT old.title OR new.description IS NOT old.description OR new.issue_id IS NOT old.issue_id BEGIN ${reindex('alert', 'new.workspace_id', 'new.id', 'new.issue_id', 'new.started_at', 'new.title', "concat_ws(' ', new.rule_name, new.description)")}
END;

-- Environments and releases an issue was seen in (from its events), for search and timeline filters.
CREATE TABLE issue_facets (
  workspace_id TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL, issue_id TEXT NOT NULL,
  PRIMARY KEY (workspace_id, facet, value, issue_id)
) WITHOUT ROWID;
-- NOT EXISTS rather than OR IGNORE: events are written with an upsert, and SQLite lets the outer
-- statement's conflict handling (ABORT) override a trigger's OR IGNORE.
CREATE TRIGGER issue_facets_event_ai AFTER INSERT ON events WHEN new.issue_id IS NOT NULL BEGIN
  INSERT INTO issue_facets SELECT new.workspace_id, 'environment', new.environment, new.issue_id WHERE new.environment IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM issue_facets WHERE workspace_id = new.workspace_id AND facet = 'environment' AND value = new.environment AND issue_id = new.issue_id);
  INSERT INTO issue_facets SELECT new.workspace_id, 'release', new.release, new.issue_id WHERE new.release IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM issue_facets WHERE workspace_id = new.workspace_id AND facet = 'release' AND value = new.release AND issue_id = new.issue_id);
END;
CREATE TRIGGER issue_facets_event_au AFTER UPDATE ON events WHEN new.issue_id IS NOT NULL BEGIN
  INSERT INTO issue_facets SELECT new.workspace_id, 'environment', new.environment, new.issue_id WHERE new.environment IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM issue_facets WHERE workspace_id = new.workspace_id AND facet = 'environment' AND value = new.environment AND issue_id = new.issue_id);
  INSERT INTO issue_facets SELECT new.workspace_id, 'release', new.release, new.issue_id WHERE new.release IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM issue_facets WHERE workspace_id = new.workspace_id AND facet = 'release' AND value = new.release AND issue_id = new.issue_id);
END;

CREATE INDEX issues_first_seen ON issues (workspace_id, first_seen);
CREATE INDEX issues_first_release ON issues (workspace_id, first_release);
CREATE INDEX observations_type_time ON observations (workspace_id, type, occurred_at);
CREATE INDEX observations_release ON observations (workspace_id, release, type, occurred_at);
CREATE INDEX insights_issue ON insights (workspace_id, issue_id);

-- API keys: only a SHA-256 of the key is stored; the key itself is shown once, when created.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);

-- Index what earlier migrations already stored.
INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
  SELECT workspace_id, 'issue', id, id, coalesce(last_seen, first_seen) FROM issues ORDER BY coalesce(last_seen, first_seen);
INSERT INTO agent_fts (rowid, title, body)
  SELECT d.row_id, ${issueTitle('i')}, ${issueBody('i')} FROM agent_docs d JOIN issues i ON i.workspace_id = d.workspace_id AND i.id = d.ref_id WHERE d.kind = 'issue';
INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
  SELECT workspace_id, 'comment', id, issue_id, created_at FROM comments WHERE deleted = 0 AND text IS NOT NULL;
INSERT INTO agent_fts (rowid, title, body)
  SELECT d.row_id, '', c.text FROM agent_docs d JOIN comments c ON c.workspace_id = d.workspace_id AND c.id = d.ref_id WHERE d.kind = 'comment';
INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
  SELECT workspace_id, 'insight', ${insightRef('insights')}, issue_id, at FROM insights WHERE summary IS NOT NULL;
INSERT INTO agent_fts (rowid, title, body)
  SELECT d.row_id, s.stage, s.summary FROM agent_docs d JOIN insights s ON s.workspace_id = d.workspace_id AND ${insightRef('s')} = d.ref_id WHERE d.kind = 'insight';
INSERT INTO agent_docs (workspace_id, kind, ref_id, issue_id, occurred_at)
  SELECT workspace_id, 'alert', id, issue_id, started_at FROM alerts;
INSERT INTO agent_fts (rowid, title, body)
  SELECT d.row_id, a.title, concat_ws(' ', a.rule_name, a.description) FROM agent_docs d JOIN alerts a ON a.workspace_id = d.workspace_id AND a.id = d.ref_id WHERE d.kind = 'alert';
INSERT OR IGNORE INTO issue_facets SELECT workspace_id, 'environment', environment, issue_id FROM events WHERE issue_id IS NOT NULL AND environment IS NOT NULL;
INSERT OR IGNORE INTO issue_facets SELECT workspace_id, 'release', release, issue_id FROM events WHERE issue_id IS NOT NULL AND release IS NOT NULL;
`;
