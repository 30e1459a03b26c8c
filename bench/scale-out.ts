/**
 * PostgreSQL scale-out, beside SQLite in the same run:
 * - drain: one preloaded inbox (stored by `serve --role web`, copied from a template database per
 *   run) drained by 1, 2 and 4 worker processes from a common start, and the same deliveries drained
 *   on SQLite by one dedicated worker;
 * - `serve --role web` acknowledged on each engine under the same load;
 * - freshness: acknowledged → found by search, at half of the engine's processing capacity measured in
 *   this run (SQLite: `serve`, one process; PostgreSQL: 1 web + 2 workers);
 * - a backfill into PostgreSQL against the emulator's rate limit (bench/backfill.ts).
 * Returns null, said in the log, when no PostgreSQL server answers.
 *
 *   npx tsx bench/scale-out.ts --sqlite-serve-capacity <deliveries/s> [--quick] [--backfill-issues N]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_WORKSPACE } from '../src/config.js';
import { createApiKey } from '../src/memory/api-keys.js';
import { MemoryStore } from '../src/memory/store.js';
import type { SyncStream } from '../src/sentry/sync/sync.js';
import { signBody } from '../src/sentry/webhooks/signature.js';
import { postDelivery, prepareDeliveries, type PreparedDelivery } from '../test/helpers/deliveries.js';
import { summarize } from './agent.js';
import { runBackfillBench } from './backfill.js';
import type { DrainChildResult } from './drain-child.js';
import { drainInbox, load, postgresDatabase, SECRET, start, stop } from './ingest.js';

export interface ScaleOutOptions {
  /** Each acknowledgement load, and the pool of deliveries it draws from. */
  durationSeconds: number;
  /** Deliveries in the preloaded inbox. */
  preloaded: number;
  freshnessSeconds: number;
  /** Processed deliveries a second of `serve` (worker in-process) on SQLite, from this run's ingest bench. */
  sqliteServeCapacity: number;
  backfill: { issues: number; streams?: readonly SyncStream[] };
}

const WORKER_COUNTS = [1, 2, 4] as const;
/** Probe deliveries a second during a freshness run: enough for a p99, few enough that polling them is no load. */
const PROBES_PER_SECOND = 20;
const POLL_MS = 5;

type Log = (line: string) => void;

export async function runScaleOutBench(log: Log, options: ScaleOutOptions) {
  const template = await postgresDatabase(log);
  if (!template) return null;
  const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-bench-scale-out-'));
  try {
    log('scale-out: preparing deliveries…');
    const pool = prepareDeliveries(Math.max(30_000, options.durationSeconds * 16_000, options.preloaded), SECRET);
    const preload = pool.slice(0, options.preloaded);
    const sqlitePreloaded = join(dir, 'preloaded.db');
    log(
      `scale-out: storing ${preload.length.toLocaleString('en-US')} deliveries through serve --role web, each engine…`,
    );
    await store(template.url, preload);
    await store(sqlitePreloaded, preload);

    log(`scale-out: serve --role web acknowledged, SQLite then PostgreSQL (${options.durationSeconds}s each)…`);
    const sqliteAck = await acknowledged(join(dir, 'ack.db'), pool, options.durationSeconds);
    const pgAckDb = (await postgresDatabase(log))!;
    const pgAck = await acknowledged(pgAckDb.url, pool, options.durationSeconds).finally(pgAckDb.drop);

    const drains: Record<number, PostgresDrain> = {};
    for (const workers of WORKER_COUNTS) {
      log(`scale-out: drain with ${workers} PostgreSQL worker process${workers > 1 ? 'es' : ''}…`);
      drains[workers] = await drainPostgres(log, template.name, workers, preload.length);
      log(`  ${drains[workers].perSecond}/s in ${drains[workers].seconds} s`);
    }
    log('scale-out: the same deliveries drained on SQLite by a dedicated worker…');
    const sqliteDrain = await drainInbox(sqlitePreloaded);
    if (sqliteDrain.deliveries !== preload.length || sqliteDrain.dead || sqliteDrain.skipped)
      throw new Error(
        `scale-out: SQLite drained ${sqliteDrain.deliveries} of ${preload.length} deliveries (${sqliteDrain.dead} dead, ${sqliteDrain.skipped} skipped)`,
      );
    log(`  ${sqliteDrain.perSecond}/s`);

    const sqliteRate = Math.round(options.sqliteServeCapacity / 2);
    log(`scale-out: freshness on SQLite (serve) at ${sqliteRate}/s for ${options.freshnessSeconds}s…`);
    const sqliteFreshness = await freshnessOnSqlite(join(dir, 'fresh.db'), sqliteRate, options.freshnessSeconds);
    const pgRate = Math.round(drains[2].perSecond / 2);
    log(`scale-out: freshness on PostgreSQL (1 web + 2 workers) at ${pgRate}/s for ${options.freshnessSeconds}s…`);
    const pgFreshness = await freshnessOnPostgres(log, pgRate, options.freshnessSeconds);

    const backfillDb = (await postgresDatabase(log))!;
    const backfill = await runBackfillBench(log, { ...options.backfill, db: backfillDb.url }).finally(backfillDb.drop);

    return {
      preloaded: preload.length,
      drains,
      sqliteDrain,
      twoVsOne: drains[2].perSecond / drains[1].perSecond,
      twoVsSqlite: drains[2].perSecond / sqliteDrain.perSecond,
      acknowledged: {
        sqlite: sqliteAck,
        postgres: pgAck,
        ratio: pgAck.acknowledgedPerSecond / sqliteAck.acknowledgedPerSecond,
      },
      freshness: {
        sqlite: { ratePerSecond: sqliteRate, ...sqliteFreshness },
        postgres: { ratePerSecond: pgRate, ...pgFreshness },
      },
      backfill,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await template.drop();
  }
}

/** Stores `deliveries` as the web role does, each once; refuses a run where any was not acknowledged. */
async function store(db: string, deliveries: PreparedDelivery[]): Promise<void> {
  const web = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', db, '--role', 'web']);
  try {
    const posted = await load(web.url, deliveries, { amount: deliveries.length });
    if (posted.total !== deliveries.length || posted.non2xx || posted.errors)
      throw new Error(
        `scale-out: ${posted.total} of ${deliveries.length} deliveries answered, ${posted.non2xx} refused, ${posted.errors} errors`,
      );
  } finally {
    await stop(web.child);
  }
}

async function acknowledged(db: string, pool: PreparedDelivery[], durationSeconds: number) {
  const web = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', db, '--role', 'web']);
  try {
    return await load(web.url, pool, durationSeconds);
  } finally {
    await stop(web.child);
  }
}

interface PostgresDrain {
  workers: number;
  seconds: number;
  perSecond: number;
  /** Summed over the workers; null before the worker counts (worker.stats). */
  deferredShare: number | null;
  statementsPerDelivery: number | null;
  /** PostgreSQL's own CPU per delivery (all its processes); null when the server is not on this machine. */
  serverCpuMsPerDelivery: number | null;
}

/**
 * CPU seconds the PostgreSQL server has used: its postmaster, the backends it has reaped and the live
 * ones (from /proc, found through a backend's parent). Null when the server runs elsewhere.
 */
async function serverCpuSeconds(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const fields = (pid: number | string) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat
        .slice(stat.lastIndexOf(')') + 2)
        .split(' ')
        .map(Number);
    };
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    const postmaster = fields(rows[0].pid)[1];
    const own = fields(postmaster);
    let ticks = own[11] + own[12] + own[13] + own[14];
    for (const entry of readdirSync('/proc'))
      if (/^\d+$/.test(entry))
        try {
          const f = fields(entry);
          if (f[1] === postmaster) ticks += f[11] + f[12];
        } catch {
          // gone meanwhile
        }
    return ticks / 100;
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

/**
 * A copy of the preloaded database drained by `workers` processes: each opens the runtime first, then
 * all start together; the time is until the last one finds nothing pending.
 */
async function drainPostgres(log: Log, template: string, workers: number, expected: number): Promise<PostgresDrain> {
  const database = (await postgresDatabase(log, template))!;
  const children: Awaited<ReturnType<typeof start>>[] = [];
  try {
    // Started together (each opening its runtime takes a while); every one that started is stopped below.
    const starts = await Promise.allSettled(
      Array.from({ length: workers }, () => start(['bench/drain-child.ts', database.url], /^(ready)$/m)),
    );
    for (const s of starts) if (s.status === 'fulfilled') children.push(s.value);
    const failed = starts.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const results = children.map(
      ({ child }) =>
        new Promise<DrainChildResult>((resolve, reject) => {
          let output = '';
          child.stdout!.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            const line = /^\{.*\}$/m.exec(output);
            if (line) resolve(JSON.parse(line[0]) as DrainChildResult);
          });
          child.once('exit', (code) => reject(new Error(`drain worker exited ${code} before its result`)));
        }),
    );
    const cpuBefore = await serverCpuSeconds(database.url);
    const started = performance.now();
    for (const { child } of children) child.kill('SIGUSR2');
    const done = await Promise.all(results);
    const seconds = (performance.now() - started) / 1000;
    // The workers' backends are still connected: their CPU is counted live, as it was before.
    const cpuAfter = await serverCpuSeconds(database.url);
    await expectAllProcessed(database.url, expected);
    const stats = done.map((d) => d.stats);
    const sum = (key: 'deferred' | 'statements') =>
      stats.every((s) => s !== null) ? stats.reduce((total, s) => total + s![key], 0) : null;
    const deferred = sum('deferred');
    const statements = sum('statements');
    return {
      workers,
      seconds: +seconds.toFixed(2),
      perSecond: Math.round(expected / seconds),
      deferredShare: deferred === null ? null : deferred / expected,
      statementsPerDelivery: statements === null ? null : statements / expected,
      serverCpuMsPerDelivery:
        cpuBefore === null || cpuAfter === null ? null : +(((cpuAfter - cpuBefore) * 1000) / expected).toFixed(3),
    };
  } finally {
    for (const { child } of children) await stop(child);
    await database.drop();
  }
}

/** Every preloaded delivery processed: none dead, skipped or left pending (a fast drain that dropped work is no figure). */
async function expectAllProcessed(url: string, expected: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM inbox WHERE workspace_id = $1 GROUP BY state',
      [DEFAULT_WORKSPACE],
    );
    const counts = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    if (rows.length !== 1 || counts.processed !== expected)
      throw new Error(
        `scale-out: after the drain the inbox holds ${JSON.stringify(counts)}, not ${expected} processed`,
      );
  } finally {
    await client.end();
  }
}

/** An API key for the search probes, created as `apikey create` does. */
async function apiKey(db: string): Promise<string> {
  const memory = await MemoryStore.open(db);
  try {
    return (await createApiKey(memory.db, DEFAULT_WORKSPACE, 'bench freshness')).key;
  } finally {
    await memory.close();
  }
}

async function freshnessOnSqlite(db: string, rate: number, seconds: number) {
  const key = await apiKey(db);
  const server = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', db, '--sync-interval', 'off']);
  try {
    return await freshness(server.url, key, rate, seconds);
  } finally {
    await stop(server.child);
  }
}

async function freshnessOnPostgres(log: Log, rate: number, seconds: number) {
  const database = (await postgresDatabase(log))!;
  const processes = [];
  try {
    const key = await apiKey(database.url);
    const web = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', database.url, '--role', 'web']);
    processes.push(web.child);
    for (let i = 0; i < 2; i++)
      processes.push(
        (
          await start(
            ['src/cli/main.ts', 'serve', '--db', database.url, '--role', 'worker', '--sync-interval', 'off'],
            /(sentry-memory is processing)/,
          )
        ).child,
      );
    return await freshness(web.url, key, rate, seconds);
  } finally {
    for (const child of processes) await stop(child);
    await database.drop();
  }
}

/**
 * Deliveries at `rate` a second for `seconds` and, among them, PROBES_PER_SECOND comments that each
 * carry a word of their own: for each, the time from its acknowledgement until search finds it.
 */
async function freshness(url: string, key: string, rate: number, seconds: number) {
  const probes = Math.max(1, Math.round(PROBES_PER_SECOND * seconds));
  // The background, with room for autocannon's pacing, then the comments that become probes.
  const background = Math.ceil(rate * seconds * 1.2);
  const pool = prepareDeliveries(background + probes * 8, SECRET);
  const probeDeliveries = pool
    .slice(background)
    .filter((d) => d.headers['sentry-hook-resource'] === 'comment')
    .slice(0, probes)
    .map((d, i) => withWord(d, probeWord(i)));
  const loaded = load(url, pool.slice(0, background), seconds, rate);
  const latencies: Promise<number>[] = [];
  const started = performance.now();
  for (const [i, delivery] of probeDeliveries.entries()) {
    await sleep(started + (i * 1000) / PROBES_PER_SECOND - performance.now());
    const status = await postDelivery(url, delivery);
    const acknowledgedAt = performance.now();
    if (status !== 200) throw new Error(`freshness: probe ${i} answered ${status}`);
    latencies.push(visibleAfter(url, key, probeWord(i), acknowledgedAt));
  }
  const sent = await loaded;
  if (sent.non2xx || sent.errors)
    throw new Error(`freshness: ${sent.non2xx} deliveries refused, ${sent.errors} errors`);
  return { sentPerSecond: sent.acknowledgedPerSecond, ...summarize(await Promise.all(latencies)) };
}

/**
 * A word no other delivery holds, letters only (so every engine's tokenizer keeps it whole), all of one
 * length (so none is the beginning of another).
 */
const probeWord = (i: number) =>
  `freshprobe${[...i.toString(26).padStart(4, '0')].map((c) => String.fromCharCode(97 + parseInt(c, 26))).join('')}`;

function withWord(delivery: PreparedDelivery, word: string): PreparedDelivery {
  const payload = JSON.parse(delivery.body.toString()) as { data: { comment: string } };
  payload.data.comment = `Probe ${word} acknowledged`;
  const body = Buffer.from(JSON.stringify(payload));
  return { body, headers: { ...delivery.headers, 'sentry-hook-signature': signBody(SECRET, body) } };
}

/** Polls search for `word` until it is found: milliseconds since `acknowledgedAt`. */
async function visibleAfter(url: string, key: string, word: string, acknowledgedAt: number): Promise<number> {
  for (;;) {
    const response = await fetch(`${url}/api/v1/search?q=${word}&limit=1`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const answer = (await response.json()) as { hits?: unknown[] };
    if (!response.ok) throw new Error(`freshness: search answered ${response.status}: ${JSON.stringify(answer)}`);
    if (answer.hits!.length) return performance.now() - acknowledgedAt;
    if (performance.now() - acknowledgedAt > 60_000) throw new Error(`freshness: "${word}" not found after a minute`);
    await sleep(POLL_MS);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'sqlite-serve-capacity': { type: 'string' },
      // A smaller backfill than the full run's 20,000 issues (about 17 minutes at the floor).
      'backfill-issues': { type: 'string' },
      // Only the freshness run of one engine, at a given rate: for tuning what it measures.
      freshness: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  if (values.freshness) {
    const rate = Number(values.rate ?? 1000);
    const seconds = values.quick ? 3 : 10;
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-bench-freshness-'));
    const result =
      values.freshness === 'postgres'
        ? await freshnessOnPostgres(log, rate, seconds)
        : await freshnessOnSqlite(join(dir, 'fresh.db'), rate, seconds).finally(() =>
            rmSync(dir, { recursive: true, force: true }),
          );
    console.log(JSON.stringify({ engine: values.freshness, ratePerSecond: rate, ...result }, null, 2));
    process.exit(0);
  }
  if (!values['sqlite-serve-capacity'])
    throw new Error(
      "--sqlite-serve-capacity <deliveries/s>: serve's processed rate on SQLite (npm run bench's ingest)",
    );
  const result = await runScaleOutBench((line) => process.stderr.write(`${line}\n`), {
    durationSeconds: values.quick ? 3 : 10,
    preloaded: values.quick ? 5_000 : 50_000,
    freshnessSeconds: values.quick ? 3 : 10,
    sqliteServeCapacity: Number(values['sqlite-serve-capacity']),
    backfill: values['backfill-issues']
      ? { issues: Number(values['backfill-issues']) }
      : values.quick
        ? { issues: 150, streams: ['issues'] }
        : { issues: 20_000 },
  });
  console.log(JSON.stringify(result, null, 2));
}
