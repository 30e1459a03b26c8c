/**
 * Tag distributions per issue: counts per (issue, key, value), bounded per key (the kept values plus
 * an `other` remainder), never a copy per event. `synced_at` is when the source's counts were read
 * (null while only stored events have been counted); all keys of an issue share it.
 * `text` and `integer` are the engine's types (PostgreSQL: byte-order text and bigint, as every other table there).
 */
export function issueTagsSql(text: string, integer: string): string {
  return `
CREATE TABLE issue_tag_keys (
  workspace_id ${text} NOT NULL, issue_id ${text} NOT NULL, key ${text} NOT NULL, name ${text},
  total ${integer} NOT NULL, other ${integer} NOT NULL, synced_at ${text},
  PRIMARY KEY (workspace_id, issue_id, key)
);
CREATE TABLE issue_tag_values (
  workspace_id ${text} NOT NULL, issue_id ${text} NOT NULL, key ${text} NOT NULL, value ${text} NOT NULL,
  count ${integer} NOT NULL,
  PRIMARY KEY (workspace_id, issue_id, key, value)
);
-- Dropped again by a later migration: see its name.
CREATE INDEX issue_tag_values_by_value ON issue_tag_values (workspace_id, key, value);
`;
}
