/**
 * The (type, time) index of observations, widened to cover what timeline counts and project filters
 * read: counting a type's facts in a window, even of one project, then never reads the rows. The same
 * SQL on both engines.
 */
export const OBSERVATIONS_TYPE_TIME_COVERING = `
CREATE INDEX observations_type_time_covering ON observations (workspace_id, type, occurred_at, project_slug, issue_id);
DROP INDEX observations_type_time;
`;
