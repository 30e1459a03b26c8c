/** Indexes added for the read path after the first schema; the same SQL on both engines' migrations. */

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
