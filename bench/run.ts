/**
 * `npm run bench`: every benchmark in one run. Prints a table of figures (targets and whether they were
 * met) and saves them to bench/results/latest.json; `--json` prints that object on stdout instead.
 * `--quick` is a smoke run (short loads, a 10× smaller memory, a backfill of 150 issues alone instead of
 * a whole organization with 20,000) that finishes in about a minute (and about a minute more for
 * PostgreSQL's); its figures are for spotting a regression, not for the README.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runAgentBench } from './agent.js';
import { runBackfillBench } from './backfill.js';
import { describeTarget, describeValue, figure, type Figure } from './figures.js';
import { runFootprintBench } from './footprint.js';
import { runIngestBench } from './ingest.js';
import { runIngestAtScaleBench } from './ingest-at-scale.js';
import { runScaleOutBench } from './scale-out.js';

const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
});
const log = (line: string) => process.stderr.write(`${line}\n`);
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString(),
};
const scale = flags.quick
  ? { durationSeconds: 3, issues: 10_000, observations: 100_000, samples: 0.25 }
  : { durationSeconds: 10, issues: 100_000, observations: 1_000_000, samples: 1 };
// The backfill is paced by the rate limit (40 requests/s): 20,000 issues take about 17 minutes.
const backfillScale = flags.quick ? { issues: 150, streams: ['issues'] as const } : { issues: 20_000 };

const ingest = await runIngestBench(log, { durationSeconds: scale.durationSeconds });
const agent = await runAgentBench(log, scale);
const footprint = await runFootprintBench(log, agent.database);
const atScale = await runIngestAtScaleBench(log, {
  storedDatabase: agent.database.path,
  deliveries: flags.quick ? 5_000 : 20_000,
});
const backfill = await runBackfillBench(log, backfillScale);
const scaleOut = await runScaleOutBench(log, {
  durationSeconds: scale.durationSeconds,
  preloaded: flags.quick ? 5_000 : 50_000,
  freshnessSeconds: flags.quick ? 3 : 10,
  sqliteServeCapacity: ingest.serveWithWorker.processedPerSecond,
  backfill: backfillScale,
});

const ms = (value: number, atMost?: number) => figure(value, 'ms', atMost === undefined ? undefined : { atMost });
const perSecond = (value: number, atLeast?: number) =>
  figure(value, 'deliveries/s', atLeast === undefined ? undefined : { atLeast });
const ratio = (value: number, atLeast?: number) =>
  figure(value, 'ratio', atLeast === undefined ? undefined : { atLeast });

const figures: Record<string, Record<string, Figure>> = {
  acknowledgement: {
    'ceiling (bare node:http, HMAC only)': perSecond(ingest.ceiling.acknowledgedPerSecond),
    'serve --role web': perSecond(ingest.serveAckOnly.acknowledgedPerSecond),
    'serve --role web vs ceiling': ratio(ingest.serveAckOnly.ratioToCeiling, 0.75),
    'serve --role web p99': ms(ingest.serveAckOnly.p99Ms, 50),
    'serve (worker in-process) vs ceiling, acknowledged': ratio(ingest.serveWithWorker.ratioToCeiling),
    'serve (worker in-process) p99': ms(ingest.serveWithWorker.p99Ms, 50),
  },
  processing: {
    'drain, dedicated worker': perSecond(ingest.drain.perSecond, 5000),
    'serve (worker in-process), processed by the end of the run': perSecond(ingest.serveWithWorker.processedPerSecond),
    'serve (worker in-process), processed vs ceiling': ratio(ingest.serveWithWorker.processedRatioToCeiling, 0.4),
    'serve (worker in-process), pending when the load stopped': figure(
      ingest.serveWithWorker.pendingWhenLoadStopped,
      'deliveries',
    ),
    'serve (worker in-process), catch-up after the load': figure(ingest.serveWithWorker.catchUpSeconds, 's'),
    'drain into an empty memory': perSecond(atScale.emptyPerSecond),
    'drain into the query bench memory (1,000,000 observations; 100,000 with --quick)': perSecond(
      atScale.storedPerSecond,
    ),
    'drain with that memory stored vs empty': ratio(atScale.ratio, 0.8),
  },
  ...(scaleOut && {
    postgresql: {
      [`drain of a preloaded inbox (${scaleOut.preloaded.toLocaleString('en-US')} deliveries), 1 worker process`]:
        perSecond(scaleOut.drains[1].perSecond),
      'drain, 2 worker processes': perSecond(scaleOut.drains[2].perSecond, 5000),
      'drain, 4 worker processes': perSecond(scaleOut.drains[4].perSecond),
      'drain, 2 worker processes vs 1': ratio(scaleOut.twoVsOne, 1.3),
      'drain, the same deliveries on SQLite (dedicated worker)': perSecond(scaleOut.sqliteDrain.perSecond),
      'drain, 2 worker processes vs SQLite': ratio(scaleOut.twoVsSqlite, 0.7),
      'drain, deliveries deferred on a merge key held by another worker (2 workers)': figure(
        scaleOut.drains[2].deferredShare,
        'ratio',
        { atMost: 0.01 },
      ),
      'drain, deliveries deferred (4 workers)': figure(scaleOut.drains[4].deferredShare, 'ratio', { atMost: 0.01 }),
      'drain, SQL statements per delivery (2 workers)': figure(scaleOut.drains[2].statementsPerDelivery, 'statements', {
        atMost: 0.1,
      }),
      // What one PostgreSQL core can take: the server's CPU per delivery bounds throughput at 1000 ÷ ms per core.
      'drain, PostgreSQL server CPU per delivery (2 workers)': figure(scaleOut.drains[2].serverCpuMsPerDelivery, 'ms'),
      'serve --role web, acknowledged': perSecond(scaleOut.acknowledged.postgres.acknowledgedPerSecond),
      'serve --role web on SQLite, same load': perSecond(scaleOut.acknowledged.sqlite.acknowledgedPerSecond),
      'serve --role web, acknowledged vs SQLite': ratio(scaleOut.acknowledged.ratio, 0.6),
      [`freshness on SQLite (serve) at ${scaleOut.freshness.sqlite.ratePerSecond}/s, acknowledged → found by search, p99`]:
        ms(scaleOut.freshness.sqlite.p99Ms, 250),
      [`freshness (1 web + 2 workers) at ${scaleOut.freshness.postgres.ratePerSecond}/s, p99`]: ms(
        scaleOut.freshness.postgres.p99Ms,
        1000,
      ),
      [`backfill of ${scaleOut.backfill.issues.toLocaleString('en-US')} issues, wall time`]: figure(
        scaleOut.backfill.first.wallSeconds,
        's',
      ),
      'backfill, wall time vs floor': figure(scaleOut.backfill.first.wallToFloor, 'ratio', { atMost: 1.1 }),
    },
  }),
  [`queries at ${agent.issues.toLocaleString('en-US')} issues, ${agent.observations.toLocaleString('en-US')} observations (MCP, p99)`]:
    {
      search: ms(agent.capabilities.search.p99Ms, 20),
      'search, frequent words only': ms(agent.capabilities['search (frequent words only)'].p99Ms, 20),
      'search, frequent words with a selective filter': ms(
        agent.capabilities['search (frequent words, selective filter)'].p99Ms,
        20,
      ),
      timeline: ms(agent.capabilities.timeline.p99Ms, 20),
      'issue context (trend, deploys, who is affected)': ms(agent.capabilities.issue_context.p99Ms, 20),
      'issue context as of a past time': ms(
        agent.capabilities['issue_context asOf (halfway through its life)'].p99Ms,
        20,
      ),
      'release context (issues worse, new, better, gone per deploy)': ms(agent.capabilities.release_context.p99Ms, 20),
      'issue tags': ms(agent.capabilities.issue_tags.p99Ms, 10),
      'related issues': ms(agent.capabilities.related_issues.p99Ms, 20),
      status: ms(agent.capabilities.status.p99Ms),
    },
  footprint: {
    'serve RSS after a query warm-up': figure(footprint.rssMB, 'MB', { atMost: 250 }),
    'serve ready after start': ms(footprint.readyMs, 1500),
    'on disk per observation (whole file ÷ observations)': figure(footprint.bytesPerObservation, 'bytes'),
  },
  backfill: {
    'issues (5 projects; 40 requests/s, 25 concurrent, 50 ms latency)': figure(backfill.issues, 'issues'),
    'first sync, wall time': figure(backfill.first.wallSeconds, 's'),
    'first sync, requests': figure(backfill.first.requests, 'requests'),
    'first sync, floor (requests ÷ 40/s)': figure(backfill.first.floorSeconds, 's'),
    'first sync, wall time vs floor': figure(backfill.first.wallToFloor, 'ratio', { atMost: 1.1 }),
    'first sync, requests per issue': figure(backfill.first.requestsPerIssue, 'requests'),
    're-run with nothing changed, requests': figure(backfill.unchanged.requests, 'requests'),
    're-run with nothing changed, requests per issue': figure(backfill.unchanged.requestsPerIssue, 'requests'),
    '429s received (both syncs)': figure(backfill.first.rateLimited + backfill.unchanged.rateLimited, '429s'),
    'requests that failed (both syncs)': figure(backfill.first.failed + backfill.unchanged.failed, 'requests', {
      atMost: 0,
    }),
  },
};

const results = { machine, mode: flags.quick ? 'quick' : 'full', figures };
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, flags.quick ? 'latest-quick.json' : 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

if (flags.json) {
  console.log(JSON.stringify(results));
} else {
  console.log(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}${flags.quick ? ' (quick run)' : ''}`,
  );
  for (const [group, entries] of Object.entries(figures)) {
    console.log(`\n| ${group} | value | target | met |\n|---|---|---|---|`);
    for (const [name, f] of Object.entries(entries))
      console.log(
        `| ${name} | ${describeValue(f)} | ${describeTarget(f)} | ${f.met === undefined ? '' : f.met ? 'yes' : 'no'} |`,
      );
  }
}
