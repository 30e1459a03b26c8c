import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { ConfigError } from '../config.js';
import { SentrySync, SYNC_STREAMS, type SyncProgress, type SyncStream, type SyncSummary } from '../sentry/sync/sync.js';
import { clientFor } from '../sentry/auth/connections.js';
import { SyncLeases } from '../sentry/sync/lease.js';
import { openConnections } from './connections.js';
import { dbOption, jsonOption, parseDuration, parseSince, printJson, withStore } from './options.js';
import { systemClock } from '../time.js';
import { intArg } from './run-tool.js';

function budgetArg(value: string): number {
  const n = intArg(value);
  if (!(n >= 0)) throw new InvalidArgumentError('a whole number of requests, 0 or more');
  return n;
}

/** One line rewritten in place on a terminal; silent when stderr is not one. */
function progressReporter(orgSlug: string): (p: SyncProgress) => void {
  if (!process.stderr.isTTY) return () => {};
  return (p) => {
    process.stderr.write(`\r\x1b[2K${orgSlug} ${p.stream}: ${p.items} items, ${p.pages} pages${p.done ? ' ✓\n' : ''}`);
  };
}

/** A sync's summary; `followed` when this command waited for another process's sync instead of running its own. */
type SyncReport = SyncSummary & { followed?: { pid: number; host: string; startedAt: string; finishedAt: string } };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function printSummary(report: SyncReport): void {
  const streams = Object.entries(report.streams)
    .map(([name, s]) => `${name} ${s.items}`)
    .join(' · ');
  const by = report.followed ? ` (the sync by pid ${report.followed.pid} that this one waited for)` : '';
  console.log(
    `${report.organization}${by}: ${streams} — ${report.requests} requests, ${report.rateLimited} rate-limited, ${seconds(report.rateLimitWaitMs)} waiting on rate limits, ${seconds(report.durationMs)}`,
  );
}

export function syncCommand(): Command {
  return new Command('sync')
    .description('backfill and reconcile memory from the Sentry REST API (every connected organization)')
    .option('--since <when>', 'how far back the first backfill reaches', '90d')
    .option('--streams <list>', `comma-separated subset of ${SYNC_STREAMS.join(',')},issues.reconcile`)
    .option('--tag-requests <n>', 'requests each run may spend on issue tag distributions (default 100)', budgetArg)
    .option('--watch', 'keep running: incremental sync and reconcile every --interval')
    .option('--interval <duration>', 'with --watch: time between runs, e.g. 5m', '5m')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      const since = parseSince(flags.since, systemClock());
      const streams = flags.streams
        ? (String(flags.streams)
            .split(',')
            .map((s) => s.trim()) as SyncStream[])
        : undefined;
      const known = [...SYNC_STREAMS, 'issues.reconcile'];
      for (const stream of streams ?? [])
        if (!known.includes(stream))
          throw new ConfigError(`unknown stream "${stream}"; streams are ${known.join(', ')}`);
      const logger = pino({ level: process.env.LOG_LEVEL ?? 'error' }, pino.destination(2));
      await withStore(flags, async (store, workspaceId, config) => {
        const repository = await openConnections(store, config.db, workspaceId);
        const connections = await repository.active();
        if (!connections.length)
          throw new ConfigError('no Sentry connection in this database: run `sentry-memory connect` first');
        const leases = new SyncLeases(store.db, workspaceId, { now: systemClock });
        const runOnce = async (reconcile: boolean) => {
          const summaries: SyncReport[] = [];
          for (const connection of connections) {
            const claim = await leases.acquireOrFollow(connection.id, (holder) =>
              process.stderr.write(
                `another sync of connection ${connection.id} is running (pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}); waiting for it to finish\n`,
              ),
            );
            if ('followed' in claim) {
              const { holder, finishedAt, summary } = claim.followed;
              process.stderr.write(
                `the sync of connection ${connection.id} by pid ${holder.pid} finished; reporting it instead of syncing again\n`,
              );
              summaries.push({
                ...summary,
                followed: { pid: holder.pid, host: holder.host, startedAt: holder.startedAt, finishedAt },
              });
              continue;
            }
            const sync = new SentrySync({
              client: clientFor(connection, repository, { now: systemClock, logger }),
              organization: connection.orgSlug,
              workspaceId: workspaceId,
              connectionId: connection.id,
              db: store.db,
              since,
              now: systemClock,
              streams,
              tagRequestBudget: flags.tagRequests,
              onProgress: flags.json ? undefined : progressReporter(connection.orgSlug),
              logger,
            });
            summaries.push(
              await claim.lease.run(async () => {
                const summary = await sync.run();
                return reconcile ? sync.reconcile() : summary;
              }),
            );
          }
          return summaries;
        };
        if (!flags.watch) {
          const summaries = await runOnce(false);
          if (flags.json) printJson(summaries.length === 1 ? summaries[0] : summaries);
          else summaries.forEach(printSummary);
          return;
        }
        const intervalMs = parseDuration(flags.interval);
        let stopping = false;
        process.once('SIGINT', () => (stopping = true));
        process.once('SIGTERM', () => (stopping = true));
        while (!stopping) {
          const summaries = await runOnce(true);
          summaries.forEach((s) => (flags.json ? console.log(JSON.stringify(s)) : printSummary(s)));
          const until = Date.now() + intervalMs;
          while (!stopping && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
        }
      });
    });
}
