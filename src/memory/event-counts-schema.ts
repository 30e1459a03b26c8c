/**
 * Event counts per issue per hour and per day, with the project (slug). `source` is what the source (Sentry's `stats`) counted
 * in the bucket when it was last read; `received` is the stored events after that time (all of them
 * while there is no snapshot). `issue_count_snapshots` holds the spans the source's counts cover, one
 * row per unbroken run of snapshots (each one began before the previous one was read).
 * `text` and `integer` are the engine's types. The migration counts the events already stored.
 */
export function eventCountsSql(text: string, integer: string): string {
  return `
CREATE TABLE issue_event_counts (
  workspace_id ${text} NOT NULL, issue_id ${text} NOT NULL, resolution ${text} NOT NULL, start ${text} NOT NULL,
  project ${text}, source ${integer} NOT NULL, received ${integer} NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, resolution, start)
);
-- Per deploy (release context): the busiest issues of its projects around one time, from the index alone.
-- The project leads: an index led by the workspace would tempt planners to scan it for one issue's rows.
CREATE INDEX issue_event_counts_by_project ON issue_event_counts
  (project, workspace_id, resolution, start, issue_id, source, received);
CREATE TABLE issue_count_snapshots (
  workspace_id ${text} NOT NULL, issue_id ${text} NOT NULL, resolution ${text} NOT NULL,
  covered_from ${text} NOT NULL, taken_at ${text} NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, resolution, covered_from)
);
INSERT INTO issue_event_counts (workspace_id, issue_id, resolution, start, project, source, received)
  SELECT e.workspace_id, e.issue_id, 'hour', substr(e.occurred_at, 1, 13) || ':00:00.000Z', max(i.project_slug), 0, count(*)
    FROM events e LEFT JOIN issues i ON i.workspace_id = e.workspace_id AND i.id = e.issue_id
    WHERE e.issue_id IS NOT NULL GROUP BY e.workspace_id, e.issue_id, substr(e.occurred_at, 1, 13);
INSERT INTO issue_event_counts (workspace_id, issue_id, resolution, start, project, source, received)
  SELECT e.workspace_id, e.issue_id, 'day', substr(e.occurred_at, 1, 10) || 'T00:00:00.000Z', max(i.project_slug), 0, count(*)
    FROM events e LEFT JOIN issues i ON i.workspace_id = e.workspace_id AND i.id = e.issue_id
    WHERE e.issue_id IS NOT NULL GROUP BY e.workspace_id, e.issue_id, substr(e.occurred_at, 1, 10);
`;
}
