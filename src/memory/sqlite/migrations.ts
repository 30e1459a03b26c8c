import type BetterSqlite3 from 'better-sqlite3';
import { ISSUE_FACETS_BY_ISSUE, OBSERVATIONS_TYPE_TIME_COVERING } from '../shared-sql.js';
import { eventCountsSql } from '../event-counts-schema.js';
import { dashboardSql } from '../sessions.js';
import { issueTagsSql } from '../issue-tags-schema.js';
import { issueSignaturesSql } from '../signatures.js';
import { readSideMigrationSql } from './read-side-migration.js';
import { searchIndexMigrationSql } from './search-index-migration.js';

/**
 * Ordered, append-only schema migrations for the embedded SQLite store. Each runs once, in a
 * transaction, and is recorded in `schema_migrations`; never edit one that has shipped — add another.
 */
export const migrations: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'initial',
    sql: `
CREATE TABLE workspaces (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);

CREATE TABLE inbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  source TEXT NOT NULL,
  resource TEXT NOT NULL,
  action TEXT,
  external_id TEXT,
  sent_at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  processed_at TEXT,
  UNIQUE (workspace_id, source, delivery_id)
);
-- Oldest pending first: the worker walks this in order and skips the few waiting for a retry.
CREATE INDEX inbox_pending ON inbox (seq) WHERE state = 'pending';

CREATE TABLE issues (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL,
  short_id TEXT, title TEXT, culprit TEXT, error_type TEXT, message TEXT, level TEXT, platform TEXT,
  category TEXT, priority TEXT, permalink TEXT, project_id TEXT, project_slug TEXT,
  count INTEGER, user_count INTEGER, first_seen TEXT, last_seen TEXT, first_release TEXT, last_release TEXT,
  top_frames TEXT, snapshot_at TEXT NOT NULL,
  status TEXT, substatus TEXT, status_version TEXT,
  assignee_type TEXT, assignee_id TEXT, assignee_name TEXT, assignee_email TEXT, assignee_version TEXT,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX issues_short_id ON issues (workspace_id, short_id COLLATE NOCASE);
CREATE INDEX issues_project_last_seen ON issues (workspace_id, project_slug, last_seen);

CREATE TABLE events (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, issue_id TEXT, project_id TEXT,
  title TEXT, message TEXT, culprit TEXT, level TEXT, platform TEXT, release TEXT, environment TEXT,
  error_type TEXT, error_value TEXT, occurred_at TEXT NOT NULL, url TEXT, tags TEXT NOT NULL, top_frames TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_issue ON events (workspace_id, issue_id, occurred_at);

CREATE TABLE comments (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, issue_id TEXT NOT NULL, project_slug TEXT,
  author_id TEXT, author_name TEXT, created_at TEXT, text TEXT, deleted INTEGER NOT NULL DEFAULT 0, version TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX comments_issue ON comments (workspace_id, issue_id);

CREATE TABLE alerts (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, rule_id TEXT, rule_name TEXT,
  title TEXT NOT NULL, description TEXT, issue_id TEXT, event_id TEXT, projects TEXT NOT NULL, url TEXT,
  started_at TEXT, state TEXT NOT NULL, state_version TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX alerts_issue ON alerts (workspace_id, issue_id);

CREATE TABLE insights (
  workspace_id TEXT NOT NULL, issue_id TEXT NOT NULL, run_id TEXT NOT NULL, stage TEXT NOT NULL,
  state TEXT NOT NULL, summary TEXT, details TEXT, at TEXT NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, run_id, stage)
);

CREATE TABLE projects (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, slug TEXT, name TEXT, platform TEXT,
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE releases (
  workspace_id TEXT NOT NULL, version TEXT NOT NULL, short_version TEXT, projects TEXT NOT NULL,
  created_at TEXT, released_at TEXT, first_event TEXT, last_event TEXT, commit_count INTEGER, new_issues INTEGER, url TEXT,
  PRIMARY KEY (workspace_id, version)
);

CREATE TABLE deploys (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, release TEXT NOT NULL, environment TEXT NOT NULL,
  name TEXT, url TEXT, started_at TEXT, finished_at TEXT, projects TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX deploys_release ON deploys (workspace_id, release);
CREATE INDEX deploys_finished ON deploys (workspace_id, finished_at);

CREATE TABLE commits (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, release TEXT NOT NULL, message TEXT,
  author_name TEXT, author_email TEXT, repository TEXT, created_at TEXT, files TEXT,
  PRIMARY KEY (workspace_id, release, id)
);

CREATE TABLE connections (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, external_id TEXT,
  org_slug TEXT, app_slug TEXT, base_url TEXT, auth_kind TEXT, credentials TEXT,
  state TEXT NOT NULL, state_version TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX connections_external ON connections (workspace_id, source, external_id);

CREATE TABLE observations (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL,
  subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, issue_id TEXT, project_slug TEXT,
  release TEXT, environment TEXT, summary TEXT NOT NULL, data TEXT,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX observations_time ON observations (workspace_id, occurred_at);
CREATE INDEX observations_issue ON observations (workspace_id, issue_id, occurred_at);

CREATE TABLE search_docs (
  doc_id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL, kind TEXT NOT NULL, ref_id TEXT NOT NULL, issue_id TEXT, project_slug TEXT,
  occurred_at TEXT, title TEXT NOT NULL, body TEXT NOT NULL,
  UNIQUE (workspace_id, kind, ref_id)
);
CREATE VIRTUAL TABLE search_fts USING fts5(
  title, body, content='search_docs', content_rowid='doc_id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
  INSERT INTO search_fts(rowid, title, body) VALUES (new.doc_id, new.title, new.body);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
  INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.doc_id, old.title, old.body);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF title, body ON search_docs BEGIN
  INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.doc_id, old.title, old.body);
  INSERT INTO search_fts(rowid, title, body) VALUES (new.doc_id, new.title, new.body);
END;

CREATE TABLE sync_checkpoints (
  workspace_id TEXT NOT NULL, connection_id TEXT NOT NULL, stream TEXT NOT NULL,
  cursor TEXT, state TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (workspace_id, connection_id, stream)
);
`,
  },
  {
    id: 2,
    name: 'organization people and environments',
    sql: `
CREATE TABLE teams (workspace_id TEXT NOT NULL, id TEXT NOT NULL, slug TEXT, name TEXT, PRIMARY KEY (workspace_id, id));
CREATE TABLE members (
  workspace_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, email TEXT, role TEXT, teams TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE TABLE environments (workspace_id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (workspace_id, name));
`,
  },
  { id: 3, name: 'agent read side: issue-level search, facets, API keys', sql: readSideMigrationSql },
  {
    id: 4,
    name: 'one sync per connection: leases',
    sql: `
CREATE TABLE sync_leases (
  workspace_id TEXT NOT NULL, connection_id TEXT NOT NULL,
  run_id TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, expires_at INTEGER NOT NULL,
  finished_at TEXT, outcome TEXT, summary TEXT,
  PRIMARY KEY (workspace_id, connection_id)
);
`,
  },
  {
    id: 5,
    name: 'a workspace per installation',
    sql: `
-- Which workspace an installation's deliveries belong to. The one lookup that starts from something
-- other than workspace_id (the installation a webhook names, before its workspace is known), so with
-- Citus it is a reference table (replicated to every node), not distributed: one small row per install.
CREATE TABLE installation_workspaces (
  source TEXT NOT NULL, external_id TEXT NOT NULL, workspace_id TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (source, external_id)
);
`,
  },
  { id: 6, name: 'timeline counts and project filters from the index', sql: OBSERVATIONS_TYPE_TIME_COVERING },
  { id: 7, name: 'issue facets by issue', sql: ISSUE_FACETS_BY_ISSUE },
  {
    id: 8,
    name: 'full-text indexes written at commit; search filters in the issue-level index',
    sql: searchIndexMigrationSql,
  },
  {
    id: 9,
    name: 'inbox bodies in their own table',
    // Keyed by seq alone (the rowid: no second b-tree to write per delivery); seq is unique across
    // workspaces here. DROP COLUMN rewrites every inbox row once.
    sql: `
CREATE TABLE inbox_bodies (seq INTEGER PRIMARY KEY, workspace_id TEXT NOT NULL, body TEXT NOT NULL);
INSERT INTO inbox_bodies (seq, workspace_id, body) SELECT seq, workspace_id, body FROM inbox;
ALTER TABLE inbox DROP COLUMN body;
`,
  },
  { id: 10, name: 'tag distributions per issue', sql: issueTagsSql('TEXT', 'INTEGER') },
  {
    id: 11,
    name: 'issue history for answers as of a time',
    // Seeded with what each issue is now, so a memory from before this migration answers from its present on.
    sql: `
CREATE TABLE issue_history (
  workspace_id TEXT NOT NULL, issue_id TEXT NOT NULL, field TEXT NOT NULL, ref TEXT NOT NULL,
  version TEXT NOT NULL, at TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, field, ref, version)
) WITHOUT ROWID;
INSERT INTO issue_history
  SELECT workspace_id, id, 'status', '', status_version, substr(status_version, 1, instr(status_version, '|') - 1),
         json_object('status', status, 'substatus', substatus)
    FROM issues WHERE status_version IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'assignee', '', assignee_version, substr(assignee_version, 1, instr(assignee_version, '|') - 1),
         CASE WHEN assignee_id IS NULL THEN 'null'
              ELSE json_object('type', assignee_type, 'id', assignee_id, 'name', assignee_name, 'email', assignee_email) END
    FROM issues WHERE assignee_version IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'priority', '', snapshot_at || '|' || json_quote(priority), snapshot_at, json_quote(priority)
    FROM issues WHERE priority IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'counts', '', snapshot_at, snapshot_at,
         json_object('count', count, 'userCount', user_count, 'lastSeen', last_seen)
    FROM issues WHERE count IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, issue_id, 'comment', id, version, substr(version, 1, instr(version, '|') - 1),
         json_object('text', text, 'deleted', json(CASE deleted WHEN 0 THEN 'false' ELSE 'true' END))
    FROM comments;
`,
  },
  { id: 12, name: 'event counts per issue per hour and day', sql: eventCountsSql('TEXT', 'INTEGER') },
  { id: 13, name: 'issue signatures for related issues', sql: issueSignaturesSql('sqlite', 'TEXT') },
  {
    id: 14,
    // The project's usual mix is read over its recent issues by primary key; this index only misled the planner.
    name: 'tag values no longer indexed by value',
    sql: 'DROP INDEX issue_tag_values_by_value;',
  },
  { id: 15, name: 'dashboard sessions; inbox by time', sql: dashboardSql('TEXT') },
];

export function runMigrations(db: BetterSqlite3.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?').pluck();
  for (const migration of migrations) {
    if (applied.get(migration.id)) continue;
    // Checked again under the write lock: another connection opening the same file (the inbox
    // thread, a second process) may have applied it meanwhile.
    db.transaction(() => {
      if (applied.get(migration.id)) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(
        migration.id,
        migration.name,
        new Date().toISOString(),
      );
    }).immediate();
  }
}
