import { sql } from 'kysely';
import type { SqliteDatabase } from './sqlite.js';

export interface WorkspaceSummary {
  id: string;
  /** What the workspace was created for (an organization's slug), or its id when it was never registered. */
  name: string;
  createdAt: string | null;
  /** The source installations routed to it. */
  installations: { source: string; externalId: string }[];
  issues: number;
  deliveries: number;
}

/** Workspace ids are readable slugs: lowercase letters, digits and dashes, at most 40 characters. */
function slugOf(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'workspace';
}

/** Whether anything already lives under this id: a registered workspace, or data or keys written under it without registering. */
function idInUse(db: SqliteDatabase, id: string): boolean {
  const tables = ['workspaces', 'inbox', 'issues', 'connections', 'api_keys'] as const;
  return tables.some((table) => {
    const column = table === 'workspaces' ? 'id' : 'workspace_id';
    return db.get(db.qb.selectFrom(table).select(sql.lit(1).as('x')).where(column, '=', id).limit(1)) !== undefined;
  });
}

/** Registers a new workspace named `name`; its id is the name's slug, with `-2`, `-3`… when taken. Returns the id. */
export function createWorkspace(db: SqliteDatabase, name: string, now = new Date()): string {
  const base = slugOf(name);
  let id = base;
  for (let n = 2; idInUse(db, id); n++) id = `${base}-${n}`;
  db.run(db.qb.insertInto('workspaces').values({ id, name, created_at: now.toISOString() }));
  return id;
}

/** The workspace a source's installation was given, if any. */
export function workspaceOfInstallation(db: SqliteDatabase, source: string, externalId: string): string | undefined {
  return db.get(db.qb.selectFrom('installation_workspaces').select('workspace_id').where('source', '=', source).where('external_id', '=', externalId))?.workspace_id;
}

export function assignInstallation(db: SqliteDatabase, source: string, externalId: string, workspaceId: string, now = new Date()): void {
  db.run(db.qb.insertInto('installation_workspaces').values({ source, external_id: externalId, workspace_id: workspaceId, created_at: now.toISOString() }));
}

/** Workspaces that installations were routed to. */
export function installationWorkspaceIds(db: SqliteDatabase): string[] {
  return db.all(db.qb.selectFrom('installation_workspaces').select('workspace_id').distinct().orderBy('workspace_id')).map((r) => r.workspace_id);
}

/**
 * Distinct workspace ids of a table whose keys start with workspace_id, by jumping from one id to the
 * next through the index (a loose index scan): cost grows with the number of workspaces, not of rows.
 */
function workspaceIdsOf(db: SqliteDatabase, table: 'inbox' | 'issues'): string[] {
  return db.raw
    .prepare(
      `WITH RECURSIVE w(id) AS (
         SELECT min(workspace_id) FROM ${table}
         UNION ALL SELECT (SELECT min(workspace_id) FROM ${table} WHERE workspace_id > w.id) FROM w WHERE w.id IS NOT NULL
       ) SELECT id FROM w WHERE id IS NOT NULL`,
    )
    .pluck()
    .all() as string[];
}

/** Every workspace: registered ones, and any that holds deliveries or issues without being registered (e.g. "default"). */
export function listWorkspaces(db: SqliteDatabase): WorkspaceSummary[] {
  const registered = new Map(db.all(db.qb.selectFrom('workspaces').selectAll()).map((w) => [w.id, w]));
  const ids = [...new Set([...registered.keys(), ...workspaceIdsOf(db, 'inbox'), ...workspaceIdsOf(db, 'issues')])].sort();
  const installations = db.all(db.qb.selectFrom('installation_workspaces').selectAll().orderBy('created_at'));
  const count = (table: 'inbox' | 'issues', id: string) =>
    Number(db.get(db.qb.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', id))?.n ?? 0);
  return ids.map((id) => ({
    id,
    name: registered.get(id)?.name ?? id,
    createdAt: registered.get(id)?.created_at ?? null,
    installations: installations.filter((i) => i.workspace_id === id).map((i) => ({ source: i.source, externalId: i.external_id })),
    issues: count('issues', id),
    deliveries: count('inbox', id),
  }));
}
