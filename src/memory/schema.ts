import type { Generated } from 'kysely';

/** Kysely table types. Every table carries `workspace_id` so tenants never share rows. JSON columns hold text. */
export interface WorkspaceTable {
  id: string;
  name: string;
  created_at: string;
}

/** Citus reference table: see migration 5. */
export interface InstallationWorkspaceTable {
  source: string;
  external_id: string;
  workspace_id: string;
  created_at: string;
}

export interface InboxTable {
  seq: Generated<number>;
  workspace_id: string;
  delivery_id: string;
  source: string;
  resource: string;
  action: string | null;
  external_id: string | null;
  sent_at: string;
  received_at: string;
  /** `held`: names an installation not known yet; waits, unprocessed, until its installation.created arrives. */
  state: 'pending' | 'processed' | 'skipped' | 'dead' | 'held';
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  processed_at: string | null;
}

/**
 * The exact text of each inbox delivery, as signed (never re-serialized). Apart from the inbox rows:
 * settling a delivery rewrites its row, and with the body beside it that rewrote a page of bodies
 * for every delivery or two.
 */
export interface InboxBodyTable {
  workspace_id: string;
  seq: number;
  body: string;
}

export interface IssueTable {
  workspace_id: string;
  id: string;
  short_id: string | null;
  title: string | null;
  culprit: string | null;
  error_type: string | null;
  message: string | null;
  level: string | null;
  platform: string | null;
  category: string | null;
  priority: string | null;
  permalink: string | null;
  project_id: string | null;
  project_slug: string | null;
  count: number | null;
  user_count: number | null;
  first_seen: string | null;
  last_seen: string | null;
  first_release: string | null;
  last_release: string | null;
  top_frames: string | null;
  snapshot_at: string;
  status: string | null;
  substatus: string | null;
  status_version: string | null;
  assignee_type: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  assignee_email: string | null;
  assignee_version: string | null;
}

export interface EventTable {
  workspace_id: string;
  id: string;
  issue_id: string | null;
  project_id: string | null;
  title: string | null;
  message: string | null;
  culprit: string | null;
  level: string | null;
  platform: string | null;
  release: string | null;
  environment: string | null;
  error_type: string | null;
  error_value: string | null;
  occurred_at: string;
  url: string | null;
  tags: string;
  top_frames: string;
}

export interface CommentTable {
  workspace_id: string;
  id: string;
  issue_id: string;
  project_slug: string | null;
  author_id: string | null;
  author_name: string | null;
  created_at: string | null;
  text: string | null;
  deleted: number;
  version: string;
}

export interface AlertTable {
  workspace_id: string;
  id: string;
  source: string;
  rule_id: string | null;
  rule_name: string | null;
  title: string;
  description: string | null;
  issue_id: string | null;
  event_id: string | null;
  projects: string;
  url: string | null;
  started_at: string | null;
  state: string;
  state_version: string;
}

export interface InsightTable {
  workspace_id: string;
  issue_id: string;
  run_id: string;
  stage: string;
  state: string;
  summary: string | null;
  details: string | null;
  at: string;
}

export interface ProjectTable {
  workspace_id: string;
  id: string;
  slug: string | null;
  name: string | null;
  platform: string | null;
}

export interface ReleaseTable {
  workspace_id: string;
  version: string;
  short_version: string | null;
  projects: string;
  created_at: string | null;
  released_at: string | null;
  first_event: string | null;
  last_event: string | null;
  commit_count: number | null;
  new_issues: number | null;
  url: string | null;
}

export interface DeployTable {
  workspace_id: string;
  id: string;
  release: string;
  environment: string;
  name: string | null;
  url: string | null;
  started_at: string | null;
  finished_at: string | null;
  projects: string;
}

export interface CommitTable {
  workspace_id: string;
  id: string;
  release: string;
  message: string | null;
  author_name: string | null;
  author_email: string | null;
  repository: string | null;
  created_at: string | null;
  files: string | null;
}

export interface TeamTable {
  workspace_id: string;
  id: string;
  slug: string | null;
  name: string | null;
}

export interface MemberTable {
  workspace_id: string;
  id: string;
  name: string | null;
  email: string | null;
  role: string | null;
  teams: string;
}

export interface EnvironmentTable {
  workspace_id: string;
  name: string;
}

export interface ConnectionTable {
  workspace_id: string;
  id: string;
  source: string;
  external_id: string | null;
  org_slug: string | null;
  app_slug: string | null;
  base_url: string | null;
  auth_kind: string | null;
  /** Encrypted credentials blob; never stored in clear. */
  credentials: string | null;
  state: string;
  state_version: string;
  updated_at: string;
}

export interface ObservationTable {
  workspace_id: string;
  id: string;
  type: string;
  occurred_at: string;
  subject_type: string;
  subject_id: string;
  issue_id: string | null;
  project_slug: string | null;
  release: string | null;
  environment: string | null;
  summary: string;
  data: string | null;
}

/** One row per searchable document; `search_fts` indexes `title` and `body` with `doc_id` as rowid. */
export interface SearchDocTable {
  doc_id: Generated<number>;
  workspace_id: string;
  kind: string;
  ref_id: string;
  issue_id: string | null;
  project_slug: string | null;
  occurred_at: string | null;
  title: string;
  body: string;
}

/** The FTS5 index over `search_docs`; the hidden column named like the table is what MATCH targets. */
export interface SearchFtsTable {
  rowid: number;
  title: string;
  body: string;
  search_fts: string;
}

export interface SyncCheckpointTable {
  workspace_id: string;
  connection_id: string;
  stream: string;
  cursor: string | null;
  state: string | null;
  updated_at: string;
}

/** Who is syncing a connection right now, and how the last holder's sync ended (see sentry/sync/lease.ts). */
export interface SyncLeaseTable {
  workspace_id: string;
  connection_id: string;
  run_id: string;
  pid: number;
  host: string;
  started_at: string;
  /** Epoch ms; the lease is free once this passes without a heartbeat. */
  expires_at: number;
  finished_at: string | null;
  outcome: 'done' | 'failed' | null;
  /** The finished sync's summary (JSON), so a sync that waited can report what it followed. */
  summary: string | null;
}

/** Issue-level documents of the agent index; `row_id` is the `agent_fts` rowid (see sqlite/read-side-migration.ts). */
export interface AgentDocTable {
  row_id: Generated<number>;
  workspace_id: string;
  kind: 'issue' | 'comment' | 'insight' | 'alert';
  ref_id: string;
  issue_id: string | null;
  occurred_at: string | null;
}

export interface AgentFtsTable {
  rowid: number;
  title: string;
  body: string;
  /** Filter tokens of the document's issue (project, level, status; see sqlite/search-index-migration.ts). */
  facets: string;
  agent_fts: string;
}

/** fts5vocab `row` view of `agent_fts`: how many documents hold each term. */
export interface AgentFtsVocabTable {
  term: string;
  doc: number;
  cnt: number;
}

export interface IssueFacetTable {
  workspace_id: string;
  facet: 'environment' | 'release';
  value: string;
  issue_id: string;
}

/**
 * What an issue was: one row per past value of a field (see memory/history.ts), for answers as of a
 * time. `version` orders a field's rows like the merge orders its values; `at` is when it became true.
 */
export interface IssueHistoryTable {
  workspace_id: string;
  issue_id: string;
  field: 'status' | 'assignee' | 'priority' | 'counts' | 'comment';
  /** The comment id for `comment` rows, else ''. */
  ref: string;
  version: string;
  at: string;
  value: string;
}

/** Tag distributions per issue (see issue-tags-schema.ts). */
export interface IssueTagKeyTable {
  workspace_id: string;
  issue_id: string;
  key: string;
  name: string | null;
  /** Events with this key: the kept values' counts plus `other`. */
  total: number;
  other: number;
  synced_at: string | null;
}

export interface IssueTagValueTable {
  workspace_id: string;
  issue_id: string;
  key: string;
  value: string;
  count: number;
}

export interface IssueEventCountTable {
  workspace_id: string;
  issue_id: string;
  resolution: 'hour' | 'day';
  /** The bucket's start (ISO). */
  start: string;
  /** The issue's project slug, for the counts of a project around a deploy. */
  project: string | null;
  source: number;
  received: number;
}

export interface IssueCountSnapshotTable {
  workspace_id: string;
  issue_id: string;
  resolution: 'hour' | 'day';
  covered_from: string;
  taken_at: string;
}

/**
 * What makes two issues the same problem, one row per issue and signature (see memory/signatures.ts):
 * `type_culprit` (error type and culprit), `frame` (top in-app frame), `fingerprint` (a grouping key
 * of one of its events), `seer_file` (a file a root cause names). Looked up by value, then by issue.
 */
export interface IssueSignatureTable {
  workspace_id: string;
  kind: 'type_culprit' | 'frame' | 'fingerprint' | 'seer_file';
  value: string;
  issue_id: string;
}

export interface ApiKeyTable {
  id: string;
  workspace_id: string;
  name: string;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** A dashboard sign-in (see memory/sessions.ts): only the token's hash, tied to the API key that opened it. */
export interface DashboardSessionTable {
  workspace_id: string;
  token_hash: string;
  api_key_id: string;
  created_at: string;
  expires_at: string;
}

export interface Database {
  workspaces: WorkspaceTable;
  installation_workspaces: InstallationWorkspaceTable;
  inbox: InboxTable;
  inbox_bodies: InboxBodyTable;
  issues: IssueTable;
  events: EventTable;
  comments: CommentTable;
  alerts: AlertTable;
  insights: InsightTable;
  projects: ProjectTable;
  releases: ReleaseTable;
  deploys: DeployTable;
  commits: CommitTable;
  teams: TeamTable;
  members: MemberTable;
  environments: EnvironmentTable;
  connections: ConnectionTable;
  observations: ObservationTable;
  search_docs: SearchDocTable;
  search_fts: SearchFtsTable;
  sync_checkpoints: SyncCheckpointTable;
  sync_leases: SyncLeaseTable;
  agent_docs: AgentDocTable;
  agent_fts: AgentFtsTable;
  agent_fts_vocab: AgentFtsVocabTable;
  issue_facets: IssueFacetTable;
  api_keys: ApiKeyTable;
  issue_history: IssueHistoryTable;
  issue_tag_keys: IssueTagKeyTable;
  issue_tag_values: IssueTagValueTable;
  issue_event_counts: IssueEventCountTable;
  issue_count_snapshots: IssueCountSnapshotTable;
  issue_signatures: IssueSignatureTable;
  dashboard_sessions: DashboardSessionTable;
}
