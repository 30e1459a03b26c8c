import type { MemoryDatabase } from '../database.js';

/** With no webhook or sync for this long, answers may miss recent changes. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

export interface Overview {
  connections: { source: string; organization: string | null; state: string; updatedAt: string }[];
  projects: { slug: string | null; issues: number; lastSeen: string | null }[];
  freshness: {
    lastWebhookAt: string | null;
    inbox: { pending: number; dead: number };
    syncs: { connection: string; stream: string; updatedAt: string }[];
    newestIssueActivity: string | null;
    /** The most recent of the last webhook and the last sync. */
    lastUpdateAt: string | null;
    stale: boolean;
  };
}

/** What the inbox says about a workspace's deliveries: the memory's own tables cannot tell. */
export interface DeliveryActivity {
  lastReceivedAt: string | null;
  counts: { pending: number; dead: number };
}

/** Connected organizations and projects, and how fresh the memory is given its deliveries' activity. */
export async function getOverview(
  db: MemoryDatabase,
  workspaceId: string,
  deliveries: DeliveryActivity,
  now: number,
): Promise<Overview> {
  const lastWebhookAt = deliveries.lastReceivedAt;
  const syncs = (
    await db.all(
      db.qb
        .selectFrom('sync_checkpoints')
        .select(['connection_id', 'stream', 'updated_at'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('stream'),
    )
  ).map((s) => ({ connection: s.connection_id, stream: s.stream, updatedAt: s.updated_at }));
  // Covered by the (workspace_id, project_slug, last_seen) index: no issue rows are read.
  const projects = (
    await db.all(
      db.qb
        .selectFrom('issues')
        .select([
          'project_slug',
          (eb) => eb.fn.countAll<number>().as('n'),
          (eb) => eb.fn.max('last_seen').as('last_seen'),
        ])
        .where('workspace_id', '=', workspaceId)
        .groupBy('project_slug')
        .orderBy('project_slug'),
    )
  ).map((p) => ({ slug: p.project_slug, issues: Number(p.n), lastSeen: p.last_seen }));
  const lastUpdateAt =
    [lastWebhookAt, ...syncs.map((s) => s.updatedAt)]
      .filter((t): t is string => t !== null)
      .sort()
      .pop() ?? null;
  return {
    connections: (
      await db.all(
        db.qb
          .selectFrom('connections')
          .select(['source', 'org_slug', 'state', 'updated_at'])
          .where('workspace_id', '=', workspaceId)
          .orderBy('updated_at', 'desc'),
      )
    ).map((c) => ({ source: c.source, organization: c.org_slug, state: c.state, updatedAt: c.updated_at })),
    projects,
    freshness: {
      lastWebhookAt,
      inbox: { pending: deliveries.counts.pending, dead: deliveries.counts.dead },
      syncs,
      newestIssueActivity:
        projects
          .map((p) => p.lastSeen)
          .filter((t): t is string => t !== null)
          .sort()
          .pop() ?? null,
      lastUpdateAt,
      stale: lastUpdateAt === null || now - Date.parse(lastUpdateAt) > STALE_AFTER_MS,
    },
  };
}
