import type { Logger } from 'pino';
import type { SqliteDatabase } from '../../memory/sqlite.js';
import { clientFor, type ConnectionRepository } from '../auth/connections.js';
import { activatePendingInstallations, type PublicIntegration } from '../auth/installation-activation.js';
import { SyncLeases } from './lease.js';
import { SentrySync } from './sync.js';

export interface SyncSchedulerOptions {
  db: SqliteDatabase;
  workspaceId: string;
  repository: ConnectionRepository;
  /** Set when serving a public integration: pending installations are activated automatically. */
  app: PublicIntegration | null;
  intervalMs: number;
  /** How far back a connection's first backfill reaches (ISO). */
  since: string;
  logger: Logger;
}

const ACTIVATION_POLL_MS = 2000;

/**
 * `serve`'s background work against the REST API: activate new installations, then for every
 * connection an incremental sync and a reconcile, every interval. Runs never overlap, and a connection
 * another process is syncing (see SyncLeases) is skipped until the next interval.
 */
export function startSyncScheduler(options: SyncSchedulerOptions): { stop(): void; runNow(): Promise<void> } {
  const attempted = new Set<string>();
  const leases = new SyncLeases(options.db, options.workspaceId);
  let running: Promise<void> | null = null;

  const activate = async (): Promise<boolean> => {
    const { db, workspaceId, repository, app, logger } = options;
    return app ? (await activatePendingInstallations({ db, workspaceId, repository, app, attempted, logger })).length > 0 : false;
  };

  const tick = async () => {
    const { db, workspaceId, repository, logger } = options;
    await activate();
    for (const connection of repository.active()) {
      const claim = leases.tryAcquire(connection.id);
      if ('busy' in claim) {
        // Another process (a `sync` in a terminal, another `serve` on this file) is syncing it right now.
        logger.info({ connection: connection.id, pid: claim.busy.pid, host: claim.busy.host, since: claim.busy.startedAt }, 'sync skipped: another sync of this connection is running');
        continue;
      }
      const client = clientFor(connection, repository, logger);
      const sync = new SentrySync({ client, organization: connection.orgSlug, workspaceId, connectionId: connection.id, db, since: options.since, logger });
      try {
        const summary = await claim.lease.run(async () => {
          await sync.run();
          return sync.reconcile();
        });
        logger.info(
          { connection: connection.id, streams: summary.streams, requests: summary.requests, rateLimited: summary.rateLimited, rateLimitWaitMs: summary.rateLimitWaitMs },
          'sync finished',
        );
      } catch (error) {
        logger.error({ connection: connection.id, err: error instanceof Error ? error.message : String(error) }, 'sync failed; will retry next interval');
      }
    }
  };

  const runNow = () => {
    running ??= tick().finally(() => {
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
    stop: () => {
      clearInterval(timer);
      clearInterval(activation);
    },
    runNow,
  };
}
