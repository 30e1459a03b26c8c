import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { describeLocation } from '../memory/database.js';
import { openRuntime } from '../runtime.js';
import { DEDICATED_WORKER_BATCH_MS } from '../queue/worker.js';
import { buildApp } from '../server/app.js';
import { checkSentryUrl } from '../sentry/base-url.js';
import { startSyncScheduler } from '../sentry/sync/scheduler.js';
import { installationWorkspaceIds } from '../memory/workspaces.js';
import { loadConnectionsKey } from './connections.js';
import { dbOption, parseDuration, parseSince } from './options.js';
import { systemClock } from '../time.js';

/** How long in-flight requests get to finish on SIGTERM/SIGINT before their connections are closed. */
const SHUTDOWN_GRACE_MS = 3000;

export function serveCommand(): Command {
  return new Command('serve')
    .description('receive Sentry webhooks and process them into memory')
    .option('--port <port>', 'port to listen on (env PORT, default 8787)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
    .addOption(dbOption())
    .option('--replay-tolerance <seconds>', 'accepted age of Sentry-Hook-Timestamp (default 300)')
    .option('--body-limit <bytes>', 'largest accepted delivery, e.g. 5mb (default 5mb)')
    .option(
      '--allowed-hosts <hosts>',
      'comma-separated hostnames beyond localhost that /mcp and /api/v1 answer to (env SENTRY_MEMORY_ALLOWED_HOSTS)',
    )
    .option(
      '--busy-timeout <ms>',
      'how long a write waits for a lock held by another connection before the webhook answers 503 (env SENTRY_MEMORY_BUSY_TIMEOUT, default 5000)',
    )
    .option(
      '--retry-base <ms>',
      'first retry delay of a delivery that failed processing, doubling per attempt (env SENTRY_MEMORY_RETRY_BASE, default 1000)',
    )
    .option(
      '--role <role>',
      'all: everything; web: verify, store and acknowledge deliveries, answer queries; worker: process the inbox and run scheduled syncs, no HTTP (env SENTRY_MEMORY_ROLE, default all)',
    )
    .option('--sync-interval <duration>', 'sync and reconcile connected organizations this often, or "off"', '10m')
    .option('--since <when>', "how far back a new connection's first backfill reaches", '90d')
    .option(
      '--workspace-per-installation',
      'give each installation of a public integration its own workspace, created on installation.created (env SENTRY_MEMORY_WORKSPACE_PER_INSTALLATION=1)',
    )
    .action(async (flags) => {
      const config = loadConfig(flags);
      const logger = createLogger(config.logLevel);
      const runtime = await openRuntime({
        db: config.db,
        logger,
        busyTimeoutMs: config.busyTimeoutMs,
        worker: {
          retryBaseMs: config.retryBaseMs,
          maxBatchMs: config.role === 'worker' ? DEDICATED_WORKER_BATCH_MS : undefined,
        },
        workspacePerInstallation: config.workspacePerInstallation,
        inboxThread: config.role !== 'worker',
      });
      const app = await buildApp({
        runtime,
        workspaceId: config.workspaceId,
        clientSecrets: config.clientSecrets,
        replayToleranceSeconds: config.replayToleranceSeconds,
        bodyLimitBytes: config.bodyLimitBytes,
        allowedHosts: (flags.allowedHosts ?? process.env.SENTRY_MEMORY_ALLOWED_HOSTS ?? '')
          .split(',')
          .map((h: string) => h.trim())
          .filter(Boolean),
        logger,
      });
      const clientId = process.env.SENTRY_CLIENT_ID;
      // Checked before listening: a plain-http Sentry URL would carry the app's secret in the clear.
      const sentryUrl = checkSentryUrl(process.env.SENTRY_URL ?? 'https://sentry.io', 'SENTRY_URL');
      if (!config.clientSecrets.length)
        logger.warn('SENTRY_CLIENT_SECRET is not set: every webhook delivery will be rejected with 401');
      const web = config.role !== 'worker';
      const worker = config.role !== 'web';
      if (web) await app.listen({ port: config.port, host: config.host });
      if (worker) runtime.startProcessing();
      // The worker's timers do not hold the process open (so library users can exit); without a
      // listening server, this does until a signal stops it.
      const keepAlive = web ? null : setInterval(() => undefined, 60_000);
      const connectionsKey =
        worker && flags.syncInterval !== 'off'
          ? await loadConnectionsKey(config.db).catch((error: Error) =>
              logger.warn(`scheduled syncs are off: ${error.message}`),
            )
          : undefined;
      const scheduler = !connectionsKey
        ? null
        : startSyncScheduler({
            db: runtime.store.db,
            inbox: runtime.inbox,
            // With a workspace per installation, the installations' workspaces too, as they appear.
            workspaces: async () =>
              config.workspacePerInstallation
                ? [...new Set([config.workspaceId, ...(await installationWorkspaceIds(runtime.store.db))])]
                : [config.workspaceId],
            connectionsKey,
            // A public integration's installs are completed here when its client id and secret are known.
            app:
              clientId && config.clientSecrets[0]
                ? { baseUrl: sentryUrl, clientId, clientSecret: config.clientSecrets[0] }
                : null,
            intervalMs: parseDuration(flags.syncInterval),
            since: parseSince(flags.since, systemClock()),
            now: systemClock,
            logger,
          });
      logger.info(
        { db: describeLocation(config.db), role: config.role, secrets: config.clientSecrets.length },
        web ? 'sentry-memory is serving' : 'sentry-memory is processing',
      );
      const shutdown = async (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'stopping: accepting no new deliveries, finishing the ones in hand');
        if (keepAlive) clearInterval(keepAlive);
        // A sender that trickles its body must not hold the exit: after the grace period its
        // connection is cut, and what it was sending was never acknowledged.
        const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        // A sync in progress gets the same grace before the database closes under it.
        await Promise.all([scheduler?.stop(SHUTDOWN_GRACE_MS), app.close()]);
        clearTimeout(force);
        await runtime.close();
        logger.info('stopped');
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
