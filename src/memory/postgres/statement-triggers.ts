import { insightRef, issueBody, issueDocumentChanged, issueTitle } from '../shared-sql.js';

/**
 * PostgreSQL's issue-level index (`agent_docs`) and `issue_facets`, kept by statement-level triggers
 * over transition tables: a multi-row upsert costs one set-based INSERT … SELECT per table and
 * statement, not one plpgsql call per row. They do what migration 1's row-level triggers did, row
 * for row: the same documents and facets, re-indexed on the same changes, each under a fresh row id.
 *
 * An INSERT … ON CONFLICT DO UPDATE fires both the INSERT trigger (the inserted rows) and the UPDATE
 * trigger (the updated rows), so each kind has one trigger per event. Transition-table triggers take
 * no WHEN or column list: an UPDATE's filter joins its old and new rows on the key (which the
 * application never changes) and compares them. The key columns below are each table's primary key.
 */

/** An issue's document from the `issues` row `r` (also migration 1's, which reads `new`). */
export const issueDocument = (r: string) => ({
  title: issueTitle(r),
  body: issueBody(
    r,
    `
      (SELECT string_agg(concat_ws(' ', f->>'function', f->>'filename'), ' ')
         FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${r}.top_frames) = 'array' THEN ${r}.top_frames ELSE '[]' END) AS f)`,
  ),
});

interface Docs {
  /** FROM (and WHERE) over the transition table(s), new rows as `n`, old rows as `o`. */
  from: string;
  ref: string;
  issueId: string;
  occurredAt: string;
  title: string;
  body: string;
}

/**
 * (Re)indexes every document `d` selects, each under a fresh row id. Within one trigger ids go in
 * order of activity (no activity first), then reference and workspace, so "row id order = most
 * recently active first" holds inside a batch too (the order of the statement's rows is not visible
 * to a query). An upsert's updated rows take theirs before its inserted rows: PostgreSQL fires the
 * UPDATE statement trigger first.
 */
const putDocs = (kind: string, d: Docs) => `
  INSERT INTO agent_docs (workspace_id, row_id, kind, ref_id, issue_id, occurred_at, tsv)
  SELECT ws, nextval('agent_docs_row_id_seq'), '${kind}', ref, issue, occurred, fts_document(title, body)
    FROM (SELECT n.workspace_id AS ws, ${d.ref} AS ref, ${d.issueId} AS issue, ${d.occurredAt} AS occurred,
                 ${d.title} AS title, ${d.body} AS body
            FROM ${d.from}) AS doc
   -- nextval is evaluated after the sort (volatile output expressions are).
   ORDER BY occurred NULLS FIRST, ref, ws
  ON CONFLICT (workspace_id, kind, ref_id)
  DO UPDATE SET row_id = excluded.row_id, issue_id = excluded.issue_id, occurred_at = excluded.occurred_at, tsv = excluded.tsv;`;

/** New rows `n` joined to their old rows `o` on `key`, those where `condition` holds. */
const changed = (key: string[], condition: string) =>
  `new_rows AS n JOIN old_rows AS o ON ${key.map((c) => `o.${c} = n.${c}`).join(' AND ')} WHERE (${condition})`;

const trigger = (name: string, event: 'INSERT' | 'UPDATE', table: string, fn: string) => `
CREATE TRIGGER ${name} AFTER ${event} ON ${table}
  REFERENCING ${event === 'UPDATE' ? 'OLD TABLE AS old_rows ' : ''}NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`;

const fn = (name: string, body: string) => `
CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN${body}
  RETURN NULL;
END $$;`;

const issue = issueDocument('n');
const issueDocs = (from: string) =>
  putDocs('issue', { from, ref: 'n.id', issueId: 'n.id', occurredAt: 'coalesce(n.last_seen, n.first_seen)', ...issue });

const commentDocs = (from: string) =>
  putDocs('comment', {
    from,
    ref: 'n.id',
    issueId: 'n.issue_id',
    occurredAt: 'n.created_at',
    title: "''",
    body: 'n.text',
  });
const commentChanged = 'n.text IS DISTINCT FROM o.text OR n.deleted IS DISTINCT FROM o.deleted';

const insightDocs = (from: string) =>
  putDocs('insight', {
    from,
    ref: insightRef('n'),
    issueId: 'n.issue_id',
    occurredAt: 'n.at',
    title: 'n.stage',
    body: 'n.summary',
  });

const alertDocs = (from: string) =>
  putDocs('alert', {
    from,
    ref: 'n.id',
    issueId: 'n.issue_id',
    occurredAt: 'n.started_at',
    title: 'n.title',
    body: "concat_ws(' ', n.rule_name, n.description)",
  });

const facets = `
  INSERT INTO issue_facets (workspace_id, facet, value, issue_id)
  SELECT n.workspace_id, f.facet, f.value, n.issue_id
    FROM new_rows AS n CROSS JOIN LATERAL (VALUES ('environment', n.environment), ('release', n.release)) AS f (facet, value)
   WHERE n.issue_id IS NOT NULL AND f.value IS NOT NULL
  ON CONFLICT DO NOTHING;`;

export const statementTriggersSql = `
DROP TRIGGER agent_issue_ai ON issues;
DROP TRIGGER agent_issue_au ON issues;
DROP TRIGGER agent_comment_ai ON comments;
DROP TRIGGER agent_comment_au ON comments;
DROP TRIGGER agent_insight_ai ON insights;
DROP TRIGGER agent_insight_au ON insights;
DROP TRIGGER agent_alert_ai ON alerts;
DROP TRIGGER agent_alert_au ON alerts;
DROP TRIGGER issue_facets_event ON events;
DROP FUNCTION agent_index_issue();
DROP FUNCTION agent_index_comment();
DROP FUNCTION agent_index_insight();
DROP FUNCTION agent_index_alert();
DROP FUNCTION issue_facets_from_event();
DROP FUNCTION agent_doc_put(text, text, text, text, text, text, text);
${fn('agent_issues_inserted', issueDocs('new_rows AS n'))}
${fn('agent_issues_updated', issueDocs(changed(['workspace_id', 'id'], issueDocumentChanged('IS DISTINCT FROM', 'n', 'o'))))}
${trigger('agent_issue_ai', 'INSERT', 'issues', 'agent_issues_inserted')}
${trigger('agent_issue_au', 'UPDATE', 'issues', 'agent_issues_updated')}
${fn('agent_comments_inserted', commentDocs('new_rows AS n WHERE n.deleted = 0 AND n.text IS NOT NULL'))}
-- A changed comment's document is dropped, then put again while it has text and is not deleted.
${fn(
  'agent_comments_updated',
  `
  DELETE FROM agent_docs AS d USING ${changed(['workspace_id', 'id'], commentChanged)}
     AND d.workspace_id = o.workspace_id AND d.kind = 'comment' AND d.ref_id = o.id;
  ${commentDocs(`${changed(['workspace_id', 'id'], commentChanged)} AND n.deleted = 0 AND n.text IS NOT NULL`)}`,
)}
${trigger('agent_comment_ai', 'INSERT', 'comments', 'agent_comments_inserted')}
${trigger('agent_comment_au', 'UPDATE', 'comments', 'agent_comments_updated')}
${fn('agent_insights_inserted', insightDocs('new_rows AS n WHERE n.summary IS NOT NULL'))}
${fn(
  'agent_insights_updated',
  insightDocs(
    changed(
      ['workspace_id', 'issue_id', 'run_id', 'stage'],
      'n.summary IS NOT NULL AND n.summary IS DISTINCT FROM o.summary',
    ),
  ),
)}
${trigger('agent_insight_ai', 'INSERT', 'insights', 'agent_insights_inserted')}
${trigger('agent_insight_au', 'UPDATE', 'insights', 'agent_insights_updated')}
${fn('agent_alerts_inserted', alertDocs('new_rows AS n'))}
${fn(
  'agent_alerts_updated',
  alertDocs(
    changed(
      ['workspace_id', 'id'],
      'n.title IS DISTINCT FROM o.title OR n.description IS DISTINCT FROM o.description OR n.issue_id IS DISTINCT FROM o.issue_id',
    ),
  ),
)}
${trigger('agent_alert_ai', 'INSERT', 'alerts', 'agent_alerts_inserted')}
${trigger('agent_alert_au', 'UPDATE', 'alerts', 'agent_alerts_updated')}
-- One function for both events: a transition-table trigger fires on one event only.
${fn('issue_facets_from_events', facets)}
${trigger('issue_facets_event_ai', 'INSERT', 'events', 'issue_facets_from_events')}
${trigger('issue_facets_event_au', 'UPDATE', 'events', 'issue_facets_from_events')}
`;

/**
 * A comment's document takes the comment's time. An edit can arrive before the creation that carries
 * the time: the document is kept then, and only its time follows when the creation comes, so memory
 * is the same in whatever order (or batches) the two were applied. Documents left without one get it.
 */
export const commentTimeTriggerSql = `
${fn(
  'agent_comments_time_updated',
  `
  UPDATE agent_docs AS d SET occurred_at = n.created_at
    FROM ${changed(['workspace_id', 'id'], 'n.created_at IS DISTINCT FROM o.created_at')}
     AND d.workspace_id = n.workspace_id AND d.kind = 'comment' AND d.ref_id = n.id;`,
)}
${trigger('agent_comment_time_au', 'UPDATE', 'comments', 'agent_comments_time_updated')}
UPDATE agent_docs AS d SET occurred_at = c.created_at
  FROM comments AS c
 WHERE d.kind = 'comment' AND d.occurred_at IS NULL AND c.created_at IS NOT NULL
   AND c.workspace_id = d.workspace_id AND c.id = d.ref_id;`;
