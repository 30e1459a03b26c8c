import type { MemoryDatabase } from '../database.js';

export type SyncState = 'running' | 'idle' | 'failed';

export interface ConnectionSyncs {
  id: string;
  source: string;
  organization: string | null;
  state: string;
  updatedAt: string;
  /** The connection's sync lease: who synced it last, and whether that sync is still going. */
  sync: { state: SyncState; startedAt: string; finishedAt: string | null } | null;
  streams: {
    stream: string;
    state: SyncState;
    lastCompletedAt: string | null;
    updatedAt: string;
    /** Where a stream that is part way stands: the next page's cursor and, for windowed streams, the window. */
    progress: { cursor: string | null; window: { start: string; end: string } | null } | null;
  }[];
}

/** What a checkpoint's state says, whatever the source: part way or done, when it last completed, its window. */
interface StreamState {
  phase?: string;
  completedAt?: string;
  window?: { start: string; end: string };
}

function parsed(state: string | null): StreamState {
  if (!state) return {};
  try {
    const value = JSON.parse(state) as unknown;
    return typeof value === 'object' && value !== null ? (value as StreamState) : {};
  } catch {
    return {};
  }
}

/**
 * Each connection with its streams' checkpoints and its sync lease: a stream part way is running
 * while the lease is held, failed once its sync ended failed or its holder stopped renewing.
 */
export async function connectionSyncs(
  db: MemoryDatabase,
  workspaceId: string,
  now: number,
): Promise<ConnectionSyncs[]> {
  const [connections, leases, checkpoints] = await Promise.all([
    db.all(
      db.qb
        .selectFrom('connections')
        .select(['id', 'source', 'org_slug', 'state', 'updated_at'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('updated_at', 'desc'),
    ),
    db.all(
      db.qb
        .selectFrom('sync_leases')
        .select(['connection_id', 'started_at', 'expires_at', 'finished_at', 'outcome'])
        .where('workspace_id', '=', workspaceId),
    ),
    db.all(
      db.qb
        .selectFrom('sync_checkpoints')
        .select(['connection_id', 'stream', 'cursor', 'state', 'updated_at'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('stream'),
    ),
  ]);
  return connections.map((c) => {
    const lease = leases.find((l) => l.connection_id === c.id);
    const leaseState: SyncState | null = !lease
      ? null
      : lease.finished_at === null
        ? Number(lease.expires_at) > now
          ? 'running'
          : 'failed'
        : lease.outcome === 'failed'
          ? 'failed'
          : 'idle';
    return {
      id: c.id,
      source: c.source,
      organization: c.org_slug,
      state: c.state,
      updatedAt: c.updated_at,
      sync: lease ? { state: leaseState!, startedAt: lease.started_at, finishedAt: lease.finished_at } : null,
      streams: checkpoints
        .filter((k) => k.connection_id === c.id)
        .map((k) => {
          const state = parsed(k.state);
          const partWay = state.phase === 'running';
          return {
            stream: k.stream,
            state: !partWay ? 'idle' : leaseState === 'running' ? 'running' : 'failed',
            lastCompletedAt: state.completedAt ?? null,
            updatedAt: k.updated_at,
            progress: partWay ? { cursor: k.cursor, window: state.window ?? null } : null,
          };
        }),
    };
  });
}
