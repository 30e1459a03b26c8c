/** SQL both engines' migrations share: written once, so the two schemas cannot drift apart. */

/** The columns of an `issues` row that make up its document: title, then body (then its top frames). */
const ISSUE_TITLE_COLUMNS = ['short_id', 'title'];
const ISSUE_BODY_COLUMNS = ['error_type', 'message', 'culprit', 'project_slug'];

/** The title of an issue's document, from the `issues` row `r`. */
export const issueTitle = (r: string) => `concat_ws(' ', ${ISSUE_TITLE_COLUMNS.map((c) => `${r}.${c}`).join(', ')})`;

/** The body of an issue's document, from the row `r`: its text columns, then `frames` (the dialect's words of its top frames). */
export const issueBody = (r: string, frames: string) =>
  `concat_ws(' ', ${ISSUE_BODY_COLUMNS.map((c) => `${r}.${c}`).join(', ')},${frames})`;

/**
 * When a trigger re-indexes an issue's document: a change of its text at once, of its activity only
 * when it moves to a new hour, which keeps "most recently active first" accurate to the hour without
 * rewriting the index on every event of a busy issue. `isDistinct` is the dialect's null-safe
 * inequality (SQLite `IS NOT`, PostgreSQL `IS DISTINCT FROM`); `n` and `o` name the new and old rows.
 */
export const issueDocumentChanged = (isDistinct: 'IS NOT' | 'IS DISTINCT FROM', n = 'new', o = 'old') =>
  [
    ...[...ISSUE_TITLE_COLUMNS, ...ISSUE_BODY_COLUMNS, 'top_frames'].map((c) => `${n}.${c} ${isDistinct} ${o}.${c}`),
    `substr(${n}.last_seen, 1, 13) ${isDistinct} substr(${o}.last_seen, 1, 13)`,
    `${n}.first_seen ${isDistinct} ${o}.first_seen`,
  ].join(' OR ');

/** An insight's document reference, from the `insights` row `r`: one per issue, run and stage. */
export const insightRef = (r: string) => `${r}.issue_id || ':' || ${r}.run_id || ':' || ${r}.stage`;

/* Indexes added for the read path after the first schema. */

/**
 * The (type, time) index of observations, widened to cover what timeline counts and project filters
 * read: counting a type's facts in a window, even of one project, then never reads the rows.
 */
export const OBSERVATIONS_TYPE_TIME_COVERING = `
CREATE INDEX observations_type_time_covering ON observations (workspace_id, type, occurred_at, project_slug, issue_id);
DROP INDEX observations_type_time;
`;

/** An issue's facets (environments, releases) for its context, without scanning every issue of a facet value. */
export const ISSUE_FACETS_BY_ISSUE = `
CREATE INDEX issue_facets_issue ON issue_facets (workspace_id, issue_id, facet, value);
`;
