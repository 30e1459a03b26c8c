import type { Database } from './schema.js';
import type { MemoryDatabase } from './database.js';

const countedTables = [
  'issues',
  'events',
  'comments',
  'alerts',
  'insights',
  'observations',
  'projects',
  'releases',
  'deploys',
  'commits',
  'teams',
  'members',
  'environments',
  'connections',
] as const satisfies readonly (keyof Database)[];

export type RecordCounts = Record<(typeof countedTables)[number], number>;

/** How many records of each kind a workspace holds. */
export async function countRecords(db: MemoryDatabase, workspaceId: string): Promise<RecordCounts> {
  const counts = {} as RecordCounts;
  for (const table of countedTables) {
    const row = await db.get(
      db.qb
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', workspaceId),
    );
    counts[table] = Number(row?.n ?? 0);
  }
  return counts;
}
