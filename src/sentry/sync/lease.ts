import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { SyncLeaseTable } from '../../memory/schema.js';
import type { MemoryDatabase } from '../../memory/database.js';
import type { SyncSummary } from './sync.js';
import { systemClock, type Clock } from '../../time.js';

/** Who holds (or last held) a connection's sync lease. */
export interface LeaseHolder {
  runId: string;
  pid: number;
  host: string;
  startedAt: string;
}

/** A sync that another process ran to completion while we waited for it. */
export interface FollowedSync {
  holder: LeaseHolder;
  finishedAt: string;
  summary: SyncSummary;
}

export interface SyncLeaseOptions {
  /** A holder that stops renewing (crashed, frozen) loses the lease after this long. */
  ttlMs?: number;
  /** How often a waiting sync looks whether the lease is free. */
  pollMs?: number;
  now?: Clock;
}

const DEFAULT_TTL_MS = 30_000;
const DEFAULT_POLL_MS = 500;

type Claim = { lease: SyncLease } | { busy: LeaseHolder } | { followed: FollowedSync } | { recent: LeaseHolder };

/**
 * One sync per connection per memory, across processes: the lease is a row in the memory's own
 * database, taken in an immediate transaction, renewed by a heartbeat and free once it expires or
 * its holder (on this host) is gone. A lock in process memory could not see a `sync` run in another
 * terminal, or a second `serve` on the same file.
 */
export class SyncLeases {
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: MemoryDatabase,
    private readonly workspaceId: string,
    options: SyncLeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.now = options.now ?? systemClock;
  }

  /**
   * The lease if the connection is free, else who is syncing it. With `notStartedWithinMs`, a
   * connection whose last sync (by any process) started that recently is left alone too: schedulers
   * in several processes then sync each connection once per interval, not once each.
   */
  async tryAcquire(
    connectionId: string,
    options: { notStartedWithinMs?: number } = {},
  ): Promise<{ lease: SyncLease } | { busy: LeaseHolder } | { recent: LeaseHolder }> {
    const claim = await this.claim(connectionId, null, options.notStartedWithinMs);
    return 'followed' in claim ? { busy: claim.followed.holder } : claim;
  }

  /**
   * Takes the lease, waiting while another sync holds it. When the sync it waited for finishes
   * successfully, that sync is returned instead: its data is what this one would have fetched.
   * If it failed or its holder vanished, the lease is taken and this sync runs after all.
   */
  async acquireOrFollow(
    connectionId: string,
    onWait: (holder: LeaseHolder) => void,
  ): Promise<{ lease: SyncLease } | { followed: FollowedSync }> {
    let following: string | null = null;
    for (;;) {
      const claim = await this.claim(connectionId, following);
      if ('lease' in claim || 'followed' in claim) return claim;
      // Busy ('recent' is only answered when asked for with a window).
      const holder = 'busy' in claim ? claim.busy : claim.recent;
      if (holder.runId !== following) onWait(holder);
      following = holder.runId;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  private claim(connectionId: string, followingRunId: string | null, notStartedWithinMs?: number): Promise<Claim> {
    const { workspaceId } = this;
    return this.db.transaction(async (db): Promise<Claim> => {
      // Another process may be claiming it right now; the row alone cannot serialize that on PostgreSQL.
      await db.lock(`sync lease:${workspaceId}:${connectionId}`);
      const row = await db.get(
        db.qb
          .selectFrom('sync_leases')
          .selectAll()
          .where('workspace_id', '=', workspaceId)
          .where('connection_id', '=', connectionId),
      );
      if (row) {
        const holder: LeaseHolder = { runId: row.run_id, pid: row.pid, host: row.host, startedAt: row.started_at };
        const held = row.finished_at === null && row.expires_at > this.now() && !holderIsGone(holder);
        if (held) return { busy: holder };
        if (notStartedWithinMs !== undefined && Date.parse(row.started_at) > this.now() - notStartedWithinMs)
          return { recent: holder };
        if (row.run_id === followingRunId && row.outcome === 'done' && row.summary !== null) {
          return {
            followed: { holder, finishedAt: row.finished_at!, summary: JSON.parse(row.summary) as SyncSummary },
          };
        }
      }
      const lease = {
        runId: randomUUID(),
        pid: process.pid,
        host: hostname(),
        startedAt: new Date(this.now()).toISOString(),
      };
      const values = {
        workspace_id: workspaceId,
        connection_id: connectionId,
        run_id: lease.runId,
        pid: lease.pid,
        host: lease.host,
        started_at: lease.startedAt,
        expires_at: this.now() + this.ttlMs,
        finished_at: null,
        outcome: null,
        summary: null,
      };
      await db.run(
        db.qb
          .insertInto('sync_leases')
          .values(values)
          .onConflict((oc) =>
            oc
              .columns(['workspace_id', 'connection_id'])
              .doUpdateSet({ ...values, workspace_id: undefined, connection_id: undefined }),
          ),
      );
      return { lease: new SyncLease(this.db, workspaceId, connectionId, lease.runId, this.ttlMs, this.now) };
    });
  }
}

/** A held lease: renewed in the background until `run`'s work ends, then marked finished. */
export class SyncLease {
  constructor(
    private readonly db: MemoryDatabase,
    private readonly workspaceId: string,
    readonly connectionId: string,
    readonly runId: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Runs the sync under the lease; records its summary on success so that waiting syncs can report it. */
  async run(work: () => Promise<SyncSummary>): Promise<SyncSummary> {
    const heartbeat = setInterval(() => void this.renew().catch(() => undefined), this.ttlMs / 3);
    heartbeat.unref();
    try {
      const summary = await work();
      await this.finish('done', summary);
      return summary;
    } catch (error) {
      await this.finish('failed', null);
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }

  private renew(): Promise<void> {
    return this.update({ expires_at: this.now() + this.ttlMs });
  }

  private finish(outcome: 'done' | 'failed', summary: SyncSummary | null): Promise<void> {
    return this.update({
      finished_at: new Date(this.now()).toISOString(),
      outcome,
      summary: summary && JSON.stringify(summary),
      expires_at: this.now(),
    });
  }

  /** Only while the row is still ours: a holder that stalled past expiry must not touch its successor's lease. */
  private async update(
    set: Partial<Pick<SyncLeaseTable, 'expires_at' | 'finished_at' | 'outcome' | 'summary'>>,
  ): Promise<void> {
    await this.db.run(
      this.db.qb
        .updateTable('sync_leases')
        .set(set)
        .where('workspace_id', '=', this.workspaceId)
        .where('connection_id', '=', this.connectionId)
        .where('run_id', '=', this.runId),
    );
  }
}

/** On this host a holder whose process no longer exists has crashed (e.g. kill -9); no need to wait for expiry. */
function holderIsGone(holder: LeaseHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
