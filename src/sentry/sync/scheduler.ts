import type { Logger } from 'pino';
import type { MemoryDatabase } from '../../memory/database.js';
import type { Inbox } from '../../queue/inbox.js';
import type { Clock } from '../../time.js';
import { clientFor, ConnectionRepository } from '../auth/connections.js';
import { activatePendingInstallations, type PublicIntegration } from '../auth/installation-activation.js';
import { SyncLeases } from './lease.js';
import { SentrySync } from './sync.js';

export interface SyncSchedulerOptions {
  db: MemoryDatabase;
  /** Where installation.created deliveries wait for their activation. */
  inbox: Pick<Inbox, 'newestBody'>;
  /** The workspaces whose connections it activates and syncs, asked again each round (installations add workspaces). */
  workspaces: () => Promise<string[]>;
  /** Decrypts each workspace's connections. */
  connectionsKey: Buffer;
  /** Set when serving a public integration: pending installations are activated automatically. */
  app: PublicIntegration | null;
  intervalMs: number;
  /** How far back a connection's first backfill reaches (ISO). */
  since: string;
  /** What "now" is for leases, sync windows, checkpoints and token expiry (the intervals themselves are timers). */
  now: Clock;
  logger: Logger;
}

const ACTIVATION_POLL_MS = 2000;

/**
 * `serve`'s background work against the REST API: activate new installations, then for every
 * connection of every workspace an incremental sync and a reconcile, every interval. Runs never
 * overlap, and a connection another process is syncing (see SyncLeases) is skipped until the next interval.
 */
export function startSyncScheduler(options: SyncSchedulerOptions): {
  stop(graceMs: number): Promise<void>;
  runNow(): Promise<void>;
} {
  const attempted = new Set<string>();
  let running: Promise<void> | null = null;
  let stopped = false;

  const activate = async (): Promise<boolean> => {
    const { db, inbox, app, logger } = options;
    if (!app) return false;
    let activated = 0;
    for (const workspaceId of await options.workspaces()) {
      const repository = new ConnectionRepository(options.db, workspaceId, options.connectionsKey);
      activated += (await activatePendingInstallations({ db, inbox, workspaceId, repository, app, attempted, logger }))
        .length;
    }
    return activated > 0;
  };

  const tick = async () => {
    await activate();
    for (const workspaceId of await options.workspaces()) {
      if (stopped) return;
      await syncWorkspace(workspaceId);
    }
  };

  const syncWorkspace = async (workspaceId: string) => {
    const { db, logger } = options;
    const repository = new ConnectionRepository(options.db, workspaceId, options.connectionsKey);
    const leases = new SyncLeases(db, workspaceId, { now: options.now });
    for (const connection of await repository.active()) {
      if (stopped) return;
      // Several processes may run this scheduler on one database: a connection synced (or being synced)
      // by any of them within this interval is left alone. 0.9: timers drift, and a sync that started
      // one interval ago is due again.
      const claim = await leases.tryAcquire(connection.id, { notStartedWithinMs: options.intervalMs * 0.9 });
      if ('recent' in claim) continue;
      if ('busy' in claim) {
        // Another process (a `sync` in a terminal, another `serve` on this file) is syncing it right now.
        logger.info(
          {
            workspace: workspaceId,
            connection: connection.id,
            pid: claim.busy.pid,
            host: claim.busy.host,
            since: claim.busy.startedAt,
          },
          'sync skipped: another sync of this connection is running',
        );
        continue;
      }
      const client = clientFor(connection, repository, { now: options.now, logger });
      const sync = new SentrySync({
        client,
        organization: connection.orgSlug,
        workspaceId,
        connectionId: connection.id,
        db,
        since: options.since,
        now: options.now,
        logger,
      });
      try {
        const startedAt = new Date(options.now()).toISOString();
        const summary = await claim.lease.run(async () => {
          await sync.run();
          return sync.reconcile();
        });
        logger.info(
          {
            workspace: workspaceId,
            connection: connection.id,
            startedAt,
            streams: summary.streams,
            requests: summary.requests,
            rateLimited: summary.rateLimited,
            rateLimitWaitMs: summary.rateLimitWaitMs,
          },
          'sync finished',
        );
      } catch (error) {
        const context = {
          workspace: workspaceId,
          connection: connection.id,
          err: error instanceof Error ? error.message : String(error),
        };
        // Cut short by the shutdown (its database closed under it): not a failure of the sync.
        if (stopped) logger.info(context, 'sync interrupted by shutdown; the next run resumes from its checkpoint');
        else logger.error(context, 'sync failed; will retry next interval');
      }
    }
  };

  const runNow = () => {
    // A round that fails outside a sync (reading the workspaces or their connections) is retried next
    // interval, like a failed sync: callers fire and forget it, so it must not reject.
    running ??= tick()
      .catch((error: unknown) =>
        options.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'scheduled sync round failed; will retry next interval',
        ),
      )
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => void runNow(), options.intervalMs);
  timer.unref();
  // A new installation should not wait a whole interval for its first sync.
  const activation = setInterval(() => {
    if (!running) void activate().then((activated) => (activated ? runNow() : undefined));
  }, ACTIVATION_POLL_MS);
  activation.unref();
  void runNow();
  return {
    /** Starts no more syncs; waits for the one running, up to graceMs (its checkpoints keep what it did). */
    stop: async (graceMs) => {
      stopped = true;
      clearInterval(timer);
      clearInterval(activation);
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise<void>((resolve) => (grace = setTimeout(resolve, graceMs)))]);
      clearTimeout(grace);
    },
    runNow,
  };
}
