import type pg from 'pg';
import { eventCountsSql } from '../event-counts-schema.js';
import { dashboardSql } from '../sessions.js';
import { issueTagsSql } from '../issue-tags-schema.js';
import { issueSignaturesSql } from '../signatures.js';
import {
  insightRef,
  ISSUE_FACETS_BY_ISSUE,
  issueDocumentChanged,
  OBSERVATIONS_TYPE_TIME_COVERING,
} from '../shared-sql.js';
import { issueDocument, statementTriggersSql } from './statement-triggers.js';

/**
 * Ordered, append-only schema migrations for PostgreSQL (SQLite's are in ../sqlite/migrations.ts). Both engines
 * satisfy schema.ts: the same tables and columns, values of the same shapes. Each migration runs once,
 * in its own transaction, and is recorded in `schema_migrations`; never edit one that has shipped — add another.
 *
 * Ready for Citus: every table of a workspace's data can be distributed by `workspace_id`, so every
 * primary key and unique constraint of those tables starts with it (Citus enforces uniqueness only
 * within a shard). The exceptions are reference tables, replicated to every node (see migration 1).
 */

/** Byte order, as SQLite compares text: ORDER BY, min/max and comparisons answer the same on both engines. */
const TEXT = 'text COLLATE "C"';

/**
 * FTS5's unicode61 tokenizer splits words at every punctuation character; PostgreSQL's parser keeps
 * paths, host names, e-mail addresses and versions whole (`app/components/Button.tsx` would be one
 * word, which a search for "button" misses). Turning ASCII punctuation into spaces first makes both
 * engines index the same words (except that PostgreSQL keeps diacritics: unaccent is an extension).
 */
const PUNCTUATION = `!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
const words = (expr: string) =>
  `translate(coalesce(${expr}, ''), '${PUNCTUATION.replaceAll("'", "''")}', '${' '.repeat(PUNCTUATION.length)}')`;

const issueChanged = issueDocumentChanged('IS DISTINCT FROM');

export const migrations: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'initial',
    sql: `
-- Citus reference tables (small, replicated to every node): each is looked up before a workspace is
-- known, so its keys cannot start with workspace_id. Every other table is distributed by workspace_id.
CREATE TABLE workspaces (id ${TEXT} PRIMARY KEY, name ${TEXT} NOT NULL, created_at ${TEXT} NOT NULL);
-- The installation a webhook names, before its workspace is known: one small row per install.
CREATE TABLE installation_workspaces (
  source ${TEXT} NOT NULL, external_id ${TEXT} NOT NULL, workspace_id ${TEXT} NOT NULL, created_at ${TEXT} NOT NULL,
  PRIMARY KEY (source, external_id)
);
-- API keys: only a SHA-256 of the key is stored, and a request's key is found by that hash.
CREATE TABLE api_keys (
  id ${TEXT} NOT NULL, workspace_id ${TEXT} NOT NULL, name ${TEXT} NOT NULL, key_hash ${TEXT} NOT NULL,
  created_at ${TEXT} NOT NULL, last_used_at ${TEXT}, revoked_at ${TEXT},
  PRIMARY KEY (workspace_id, id),
  UNIQUE (key_hash)
);

CREATE TABLE inbox (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  workspace_id ${TEXT} NOT NULL, delivery_id ${TEXT} NOT NULL, source ${TEXT} NOT NULL, resource ${TEXT} NOT NULL,
  action ${TEXT}, external_id ${TEXT}, sent_at ${TEXT} NOT NULL, received_at ${TEXT} NOT NULL,
  -- The exact text that was signed, never re-serialized: not jsonb.
  body ${TEXT} NOT NULL,
  state ${TEXT} NOT NULL, attempts bigint NOT NULL DEFAULT 0, next_attempt_at ${TEXT} NOT NULL,
  last_error ${TEXT}, processed_at ${TEXT},
  PRIMARY KEY (workspace_id, seq),
  UNIQUE (workspace_id, source, delivery_id)
);
-- Oldest pending first, across workspaces: the worker walks this in order and skips the few waiting
-- for a retry. Its query names no workspace, so this index alone does not start with workspace_id.
CREATE INDEX inbox_pending ON inbox (seq) WHERE state = 'pending';

CREATE TABLE issues (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL,
  short_id ${TEXT}, title ${TEXT}, culprit ${TEXT}, error_type ${TEXT}, message ${TEXT}, level ${TEXT}, platform ${TEXT},
  category ${TEXT}, priority ${TEXT}, permalink ${TEXT}, project_id ${TEXT}, project_slug ${TEXT},
  count bigint, user_count bigint, first_seen ${TEXT}, last_seen ${TEXT}, first_release ${TEXT}, last_release ${TEXT},
  top_frames jsonb, snapshot_at ${TEXT} NOT NULL,
  status ${TEXT}, substatus ${TEXT}, status_version ${TEXT},
  assignee_type ${TEXT}, assignee_id ${TEXT}, assignee_name ${TEXT}, assignee_email ${TEXT}, assignee_version ${TEXT},
  PRIMARY KEY (workspace_id, id)
);
-- Short ids are matched case-insensitively (SQLite: COLLATE NOCASE; lower() of "C" is ASCII-only too).
CREATE INDEX issues_short_id ON issues (workspace_id, lower(short_id));
CREATE INDEX issues_project_last_seen ON issues (workspace_id, project_slug, last_seen);
CREATE INDEX issues_first_seen ON issues (workspace_id, first_seen);
CREATE INDEX issues_first_release ON issues (workspace_id, first_release);

CREATE TABLE events (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, issue_id ${TEXT}, project_id ${TEXT},
  title ${TEXT}, message ${TEXT}, culprit ${TEXT}, level ${TEXT}, platform ${TEXT}, release ${TEXT}, environment ${TEXT},
  error_type ${TEXT}, error_value ${TEXT}, occurred_at ${TEXT} NOT NULL, url ${TEXT}, tags jsonb NOT NULL, top_frames jsonb NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_issue ON events (workspace_id, issue_id, occurred_at);

CREATE TABLE comments (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, issue_id ${TEXT} NOT NULL, project_slug ${TEXT},
  author_id ${TEXT}, author_name ${TEXT}, created_at ${TEXT}, text ${TEXT},
  -- 0 or 1, not boolean: the same number as on SQLite.
  deleted integer NOT NULL DEFAULT 0,
  version ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX comments_issue ON comments (workspace_id, issue_id);

CREATE TABLE alerts (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, source ${TEXT} NOT NULL, rule_id ${TEXT}, rule_name ${TEXT},
  title ${TEXT} NOT NULL, description ${TEXT}, issue_id ${TEXT}, event_id ${TEXT}, projects jsonb NOT NULL, url ${TEXT},
  started_at ${TEXT}, state ${TEXT} NOT NULL, state_version ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX alerts_issue ON alerts (workspace_id, issue_id);

CREATE TABLE insights (
  workspace_id ${TEXT} NOT NULL, issue_id ${TEXT} NOT NULL, run_id ${TEXT} NOT NULL, stage ${TEXT} NOT NULL,
  state ${TEXT} NOT NULL, summary ${TEXT}, details jsonb, at ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, run_id, stage)
);
CREATE INDEX insights_issue ON insights (workspace_id, issue_id);

CREATE TABLE projects (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, slug ${TEXT}, name ${TEXT}, platform ${TEXT},
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE releases (
  workspace_id ${TEXT} NOT NULL, version ${TEXT} NOT NULL, short_version ${TEXT}, projects jsonb NOT NULL,
  created_at ${TEXT}, released_at ${TEXT}, first_event ${TEXT}, last_event ${TEXT}, commit_count bigint, new_issues bigint, url ${TEXT},
  PRIMARY KEY (workspace_id, version)
);

CREATE TABLE deploys (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, release ${TEXT} NOT NULL, environment ${TEXT} NOT NULL,
  name ${TEXT}, url ${TEXT}, started_at ${TEXT}, finished_at ${TEXT}, projects jsonb NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX deploys_release ON deploys (workspace_id, release);
CREATE INDEX deploys_finished ON deploys (workspace_id, finished_at);

CREATE TABLE commits (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, release ${TEXT} NOT NULL, message ${TEXT},
  author_name ${TEXT}, author_email ${TEXT}, repository ${TEXT}, created_at ${TEXT}, files jsonb,
  PRIMARY KEY (workspace_id, release, id)
);

CREATE TABLE teams (workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, slug ${TEXT}, name ${TEXT}, PRIMARY KEY (workspace_id, id));

CREATE TABLE members (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, name ${TEXT}, email ${TEXT}, role ${TEXT}, teams jsonb NOT NULL,
  PRIMARY KEY (workspace_id, id)
);

CREATE TABLE environments (workspace_id ${TEXT} NOT NULL, name ${TEXT} NOT NULL, PRIMARY KEY (workspace_id, name));

CREATE TABLE connections (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, source ${TEXT} NOT NULL, external_id ${TEXT},
  org_slug ${TEXT}, app_slug ${TEXT}, base_url ${TEXT}, auth_kind ${TEXT}, credentials ${TEXT},
  state ${TEXT} NOT NULL, state_version ${TEXT} NOT NULL, updated_at ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, source, external_id)
);

CREATE TABLE observations (
  workspace_id ${TEXT} NOT NULL, id ${TEXT} NOT NULL, type ${TEXT} NOT NULL, occurred_at ${TEXT} NOT NULL,
  subject_type ${TEXT} NOT NULL, subject_id ${TEXT} NOT NULL, issue_id ${TEXT}, project_slug ${TEXT},
  release ${TEXT}, environment ${TEXT}, summary ${TEXT} NOT NULL, data jsonb,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX observations_time ON observations (workspace_id, occurred_at);
CREATE INDEX observations_issue ON observations (workspace_id, issue_id, occurred_at);
CREATE INDEX observations_type_time ON observations (workspace_id, type, occurred_at);
CREATE INDEX observations_release ON observations (workspace_id, release, type, occurred_at);

CREATE TABLE sync_checkpoints (
  workspace_id ${TEXT} NOT NULL, connection_id ${TEXT} NOT NULL, stream ${TEXT} NOT NULL,
  cursor ${TEXT}, state ${TEXT}, updated_at ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, connection_id, stream)
);

CREATE TABLE sync_leases (
  workspace_id ${TEXT} NOT NULL, connection_id ${TEXT} NOT NULL,
  run_id ${TEXT} NOT NULL, pid bigint NOT NULL, host ${TEXT} NOT NULL, started_at ${TEXT} NOT NULL, expires_at bigint NOT NULL,
  finished_at ${TEXT}, outcome ${TEXT}, summary ${TEXT},
  PRIMARY KEY (workspace_id, connection_id)
);

-- Full text, in place of FTS5: title words weigh 'A', body words 'B'; 'simple' neither stems nor drops words, like unicode61.
CREATE FUNCTION fts_document(title text, body text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('simple', ${words('title')}), 'A') || setweight(to_tsvector('simple', ${words('body')}), 'B')
$$;

-- Timeline entries' index, written by the application (search-index.ts).
CREATE TABLE search_docs (
  workspace_id ${TEXT} NOT NULL,
  doc_id bigint GENERATED ALWAYS AS IDENTITY,
  kind ${TEXT} NOT NULL, ref_id ${TEXT} NOT NULL, issue_id ${TEXT}, project_slug ${TEXT},
  occurred_at ${TEXT}, title ${TEXT} NOT NULL, body ${TEXT} NOT NULL,
  tsv tsvector NOT NULL GENERATED ALWAYS AS (fts_document(title, body)) STORED,
  PRIMARY KEY (workspace_id, doc_id),
  UNIQUE (workspace_id, kind, ref_id)
);
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);

-- Issue-level documents (issues, comments, Seer insights, alerts), kept by the triggers below so no
-- writer has to know about them (see ../sqlite/read-side-migration.ts). A re-indexed document takes a
-- fresh row_id from the sequence, so row_id order is "most recently active first".
CREATE TABLE agent_docs (
  workspace_id ${TEXT} NOT NULL,
  row_id bigserial,
  kind ${TEXT} NOT NULL, ref_id ${TEXT} NOT NULL, issue_id ${TEXT}, occurred_at ${TEXT},
  tsv tsvector NOT NULL,
  PRIMARY KEY (workspace_id, row_id),
  UNIQUE (workspace_id, kind, ref_id)
);
CREATE INDEX agent_docs_tsv ON agent_docs USING gin (tsv);

-- (Re)indexes one document under a fresh row id.
CREATE FUNCTION agent_doc_put(ws text, doc_kind text, ref text, issue text, occurred text, title text, body text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO agent_docs (workspace_id, row_id, kind, ref_id, issue_id, occurred_at, tsv)
  VALUES (ws, nextval('agent_docs_row_id_seq'), doc_kind, ref, issue, occurred, fts_document(title, body))
  ON CONFLICT (workspace_id, kind, ref_id)
  DO UPDATE SET row_id = excluded.row_id, issue_id = excluded.issue_id, occurred_at = excluded.occurred_at, tsv = excluded.tsv
$$;

CREATE FUNCTION agent_index_issue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM agent_doc_put(new.workspace_id, 'issue', new.id, new.id, coalesce(new.last_seen, new.first_seen),
    ${issueDocument('new').title},
    ${issueDocument('new').body});
  RETURN NULL;
END $$;
CREATE TRIGGER agent_issue_ai AFTER INSERT ON issues FOR EACH ROW EXECUTE FUNCTION agent_index_issue();
-- Text changes re-index at once; activity only when it moves to a new hour, which keeps "most recently
-- active first" accurate to the hour without rewriting the index on every event of a busy issue.
CREATE TRIGGER agent_issue_au AFTER UPDATE ON issues FOR EACH ROW WHEN (${issueChanged}) EXECUTE FUNCTION agent_index_issue();

CREATE FUNCTION agent_index_comment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    DELETE FROM agent_docs WHERE workspace_id = old.workspace_id AND kind = 'comment' AND ref_id = old.id;
  END IF;
  IF new.deleted = 0 AND new.text IS NOT NULL THEN
    PERFORM agent_doc_put(new.workspace_id, 'comment', new.id, new.issue_id, new.created_at, '', new.text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER agent_comment_ai AFTER INSERT ON comments FOR EACH ROW EXECUTE FUNCTION agent_index_comment();
CREATE TRIGGER agent_comment_au AFTER UPDATE ON comments FOR EACH ROW
  WHEN (new.text IS DISTINCT FROM old.text OR new.deleted IS DISTINCT FROM old.deleted) EXECUTE FUNCTION agent_index_comment();

CREATE FUNCTION agent_index_insight() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM agent_doc_put(new.workspace_id, 'insight', ${insightRef('new')}, new.issue_id, new.at, new.stage, new.summary);
  RETURN NULL;
END $$;
CREATE TRIGGER agent_insight_ai AFTER INSERT ON insights FOR EACH ROW WHEN (new.summary IS NOT NULL) EXECUTE FUNCTION agent_index_insight();
CREATE TRIGGER agent_insight_au AFTER UPDATE ON insights FOR EACH ROW
  WHEN (new.summary IS NOT NULL AND new.summary IS DISTINCT FROM old.summary) EXECUTE FUNCTION agent_index_insight();

CREATE FUNCTION agent_index_alert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM agent_doc_put(new.workspace_id, 'alert', new.id, new.issue_id, new.started_at, new.title, concat_ws(' ', new.rule_name, new.description));
  RETURN NULL;
END $$;
CREATE TRIGGER agent_alert_ai AFTER INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION agent_index_alert();
CREATE TRIGGER agent_alert_au AFTER UPDATE ON alerts FOR EACH ROW
  WHEN (new.title IS DISTINCT FROM old.title OR new.description IS DISTINCT FROM old.description OR new.issue_id IS DISTINCT FROM old.issue_id)
  EXECUTE FUNCTION agent_index_alert();

-- Environments and releases an issue was seen in (from its events), for search and timeline filters.
CREATE TABLE issue_facets (
  workspace_id ${TEXT} NOT NULL, facet ${TEXT} NOT NULL, value ${TEXT} NOT NULL, issue_id ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, facet, value, issue_id)
);
CREATE FUNCTION issue_facets_from_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO issue_facets (workspace_id, facet, value, issue_id)
    SELECT new.workspace_id, f.facet, f.value, new.issue_id
      FROM (VALUES ('environment', new.environment), ('release', new.release)) AS f (facet, value)
     WHERE f.value IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER issue_facets_event AFTER INSERT OR UPDATE ON events FOR EACH ROW WHEN (new.issue_id IS NOT NULL) EXECUTE FUNCTION issue_facets_from_event();
`,
  },
  { id: 2, name: 'timeline counts and project filters from the index', sql: OBSERVATIONS_TYPE_TIME_COVERING },
  { id: 3, name: 'issue facets by issue', sql: ISSUE_FACETS_BY_ISSUE },
  {
    id: 4,
    name: 'inbox bodies in their own table',
    // DROP COLUMN only hides the column: rows keep their old bytes until they are next written.
    sql: `
CREATE TABLE inbox_bodies (
  workspace_id ${TEXT} NOT NULL, seq bigint NOT NULL,
  -- The exact text that was signed, never re-serialized: not jsonb.
  body ${TEXT} NOT NULL,
  PRIMARY KEY (workspace_id, seq)
);
INSERT INTO inbox_bodies (workspace_id, seq, body) SELECT workspace_id, seq, body FROM inbox;
ALTER TABLE inbox DROP COLUMN body;
`,
  },
  { id: 5, name: 'tag distributions per issue', sql: issueTagsSql(TEXT, 'bigint') },
  {
    id: 6,
    name: 'issue history for answers as of a time',
    // Seeded with what each issue is now, so a memory from before this migration answers from its present on.
    sql: `
CREATE TABLE issue_history (
  workspace_id ${TEXT} NOT NULL, issue_id ${TEXT} NOT NULL, field ${TEXT} NOT NULL, ref ${TEXT} NOT NULL,
  version ${TEXT} NOT NULL, at ${TEXT} NOT NULL, value jsonb NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, field, ref, version)
);
INSERT INTO issue_history
  SELECT workspace_id, id, 'status', '', status_version, split_part(status_version, '|', 1),
         jsonb_build_object('status', status, 'substatus', substatus)
    FROM issues WHERE status_version IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'assignee', '', assignee_version, split_part(assignee_version, '|', 1),
         CASE WHEN assignee_id IS NULL THEN 'null'::jsonb
              ELSE jsonb_build_object('type', assignee_type, 'id', assignee_id, 'name', assignee_name, 'email', assignee_email) END
    FROM issues WHERE assignee_version IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'priority', '', snapshot_at || '|' || to_jsonb(priority)::text, snapshot_at, to_jsonb(priority)
    FROM issues WHERE priority IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, id, 'counts', '', snapshot_at, snapshot_at,
         jsonb_build_object('count', count, 'userCount', user_count, 'lastSeen', last_seen)
    FROM issues WHERE count IS NOT NULL;
INSERT INTO issue_history
  SELECT workspace_id, issue_id, 'comment', id, version, split_part(version, '|', 1),
         jsonb_build_object('text', text, 'deleted', deleted <> 0)
    FROM comments;
`,
  },
  { id: 7, name: 'event counts per issue per hour and day', sql: eventCountsSql(TEXT, 'bigint') },
  { id: 8, name: 'issue signatures for related issues', sql: issueSignaturesSql('postgres', TEXT) },
  {
    id: 9,
    // The project's usual mix is read over its recent issues by primary key; this index only misled the planner.
    name: 'tag values no longer indexed by value',
    sql: 'DROP INDEX issue_tag_values_by_value;',
  },
  // Batched writers upsert hundreds of rows a statement: the index is kept once per statement, not per row.
  { id: 10, name: 'search documents and facets kept per statement', sql: statementTriggersSql },
  { id: 11, name: 'dashboard sessions; inbox by time', sql: dashboardSql(TEXT) },
];

/** Any fixed key: every process that migrates this database takes the same one ('smemmigr' in ASCII). */
const MIGRATION_LOCK = 0x736d656d6d696772n;

/**
 * Brings the database up to date. A session advisory lock makes processes that start together take
 * turns: the first applies what is missing, the others then find nothing left to do.
 */
export async function migratePostgres(client: pg.ClientBase): Promise<void> {
  await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
  try {
    // A plain local table, even on Citus: it describes this database, not a workspace.
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name ${TEXT} NOT NULL, applied_at ${TEXT} NOT NULL)`,
    );
    const { rows } = await client.query<{ id: number }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
          migration.id,
          migration.name,
          new Date().toISOString(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
  }
}
