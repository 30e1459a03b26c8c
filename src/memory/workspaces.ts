import { sql } from 'kysely';
import type { MemoryDatabase } from './database.js';

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
async function idInUse(db: MemoryDatabase, id: string): Promise<boolean> {
  const tables = ['workspaces', 'inbox', 'issues', 'connections', 'api_keys'] as const;
  for (const table of tables) {
    const column = table === 'workspaces' ? 'id' : 'workspace_id';
    if (
      (await db.get(db.qb.selectFrom(table).select(sql.lit(1).as('x')).where(column, '=', id).limit(1))) !== undefined
    )
      return true;
  }
  return false;
}

/** Registers a new workspace named `name`; its id is the name's slug, with `-2`, `-3`… when taken. Returns the id. */
export async function createWorkspace(db: MemoryDatabase, name: string, now = new Date()): Promise<string> {
  const base = slugOf(name);
  let id = base;
  for (let n = 2; await idInUse(db, id); n++) id = `${base}-${n}`;
  await db.run(db.qb.insertInto('workspaces').values({ id, name, created_at: now.toISOString() }));
  return id;
}

/** The workspace a source's installation was given, if any. */
export async function workspaceOfInstallation(
  db: MemoryDatabase,
  source: string,
  externalId: string,
): Promise<string | undefined> {
  const row = await db.get(
    db.qb
      .selectFrom('installation_workspaces')
      .select('workspace_id')
      .where('source', '=', source)
      .where('external_id', '=', externalId),
  );
  return row?.workspace_id;
}

export async function assignInstallation(
  db: MemoryDatabase,
  source: string,
  externalId: string,
  workspaceId: string,
  now = new Date(),
): Promise<void> {
  await db.run(
    db.qb
      .insertInto('installation_workspaces')
      .values({ source, external_id: externalId, workspace_id: workspaceId, created_at: now.toISOString() }),
  );
}

/** Workspaces that installations were routed to. */
export async function installationWorkspaceIds(db: MemoryDatabase): Promise<string[]> {
  return (
    await db.all(db.qb.selectFrom('installation_workspaces').select('workspace_id').distinct().orderBy('workspace_id'))
  ).map((r) => r.workspace_id);
}

/**
 * Distinct workspace ids of a table whose keys start with workspace_id, by jumping from one id to the
 * next through the index (a loose index scan): cost grows with the number of workspaces, not of rows.
 */
async function workspaceIdsOf(db: MemoryDatabase, table: 'inbox' | 'issues'): Promise<string[]> {
  const ids: string[] = [];
  for (let last: string | null = null; ;) {
    let q = db.qb.selectFrom(table).select((eb) => eb.fn.min('workspace_id').as('id'));
    if (last !== null) q = q.where('workspace_id', '>', last);
    const next = (await db.get(q))?.id as string | null | undefined;
    if (next == null) return ids;
    ids.push(next);
    last = next;
  }
}

/** Every workspace: registered ones, and any that holds deliveries or issues without being registered (e.g. "default"). */
export async function listWorkspaces(db: MemoryDatabase): Promise<WorkspaceSummary[]> {
  const registered = new Map((await db.all(db.qb.selectFrom('workspaces').selectAll())).map((w) => [w.id, w]));
  const ids = [
    ...new Set([...registered.keys(), ...(await workspaceIdsOf(db, 'inbox')), ...(await workspaceIdsOf(db, 'issues'))]),
  ].sort();
  const installations = await db.all(db.qb.selectFrom('installation_workspaces').selectAll().orderBy('created_at'));
  const count = async (table: 'inbox' | 'issues', id: string) =>
    Number(
      (
        await db.get(
          db.qb
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspace_id', '=', id),
        )
      )?.n ?? 0,
    );
  const summaries: WorkspaceSummary[] = [];
  for (const id of ids) {
    summaries.push({
      id,
      name: registered.get(id)?.name ?? id,
      createdAt: registered.get(id)?.created_at ?? null,
      installations: installations
        .filter((i) => i.workspace_id === id)
        .map((i) => ({ source: i.source, externalId: i.external_id })),
      issues: await count('issues', id),
      deliveries: await count('inbox', id),
    });
  }
  return summaries;
}
