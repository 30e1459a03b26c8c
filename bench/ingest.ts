/**
 * Webhook ingest benchmark: signed, unique, real-shaped deliveries at full speed (autocannon, 32
 * connections) against `sentry-memory serve` and, in the same run, against the bare ceiling server.
 * Then how fast the worker drains the inbox into memory. With PostgreSQL reachable (BENCH_PG_URL, default
 * the local server), the same load against 1 web and 2 worker processes sharing one database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { DEFAULT_WORKSPACE } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { DEDICATED_WORKER_BATCH_MS } from '../src/queue/worker.js';
import { prepareDeliveries, type PreparedDelivery } from '../test/helpers/deliveries.js';

export const SECRET = 'bench-secret';
const root = resolve(import.meta.dirname, '..');
const connections = 32;

export interface LoadResult {
  acknowledgedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
}

export function start(
  args: string[],
  ready = /listening at (http:\/\/127\.0\.0\.1:\d+)/i,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env: { ...process.env, SENTRY_CLIENT_SECRET: SECRET, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolvePromise({ child, url: match[1] ?? '' });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Posts deliveries for `durationSeconds`, or `{ amount }` of them (each once when the pool holds that many). */
export async function load(
  url: string,
  deliveries: PreparedDelivery[],
  durationSeconds: number | { amount: number },
): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/webhooks/sentry`,
    method: 'POST',
    connections,
    ...(typeof durationSeconds === 'number' ? { duration: durationSeconds } : { amount: durationSeconds.amount }),
    requests: [
      {
        setupRequest: (request) => {
          // Each request is a new delivery; past the prepared pool it would repeat (and count as a duplicate).
          const delivery = deliveries[next++ % deliveries.length];
          return {
            ...request,
            method: 'POST',
            path: '/webhooks/sentry',
            headers: delivery.headers,
            body: delivery.body,
          };
        },
      },
    ],
  });
  return {
    acknowledgedPerSecond: Math.round(result['2xx'] / Math.max(result.duration, 0.001)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result['2xx'] + result.non2xx,
  };
}

/** Opens the memory at `path` with a dedicated worker and drains its inbox: how many, how fast, and what did not become memory. */
export async function drainInbox(path: string) {
  const runtime = await openRuntime({ db: path, worker: { maxBatchMs: DEDICATED_WORKER_BATCH_MS } });
  try {
    const pendingBefore = (await runtime.inbox.countsByState(DEFAULT_WORKSPACE)).pending;
    const started = performance.now();
    const deliveries = await runtime.worker.drain();
    const seconds = (performance.now() - started) / 1000;
    const counts = await runtime.inbox.countsByState(DEFAULT_WORKSPACE);
    return {
      deliveries,
      pendingBefore,
      seconds: +seconds.toFixed(2),
      perSecond: Math.round(deliveries / seconds),
      dead: counts.dead,
      skipped: counts.skipped,
    };
  } finally {
    await runtime.close();
  }
}

async function healthz(url: string): Promise<{ pending: number; processed: number }> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { inbox: { pending: number; processed: number } }).inbox;
}

/** Processing throughput while loaded, and how long the workers took to catch up after the load stopped. */
async function catchUp(url: string, load: LoadResult, durationSeconds: number) {
  const afterLoad = await healthz(url);
  const started = performance.now();
  let state = afterLoad;
  while (state.pending > 0) {
    await new Promise((r) => setTimeout(r, 50));
    state = await healthz(url);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    pendingWhenLoadStopped: afterLoad.pending,
    catchUpSeconds: +seconds.toFixed(2),
    processedPerSecond: Math.round(state.processed / (durationSeconds + seconds)),
    processed: state.processed,
    acknowledged: load.total - load.non2xx,
  };
}

/** A fresh database on the PostgreSQL server, or null when none answers. */
async function postgresDatabase(
  log: (line: string) => void,
): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const adminUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    log(`PostgreSQL scenario skipped: no server at ${adminUrl} (${(error as Error).message})`);
    return null;
  }
  const name = `sm_bench_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** 1 web process and 2 workers on one PostgreSQL database, under the same load. */
async function runPostgresScenario(
  log: (line: string) => void,
  pool: PreparedDelivery[],
  ceiling: LoadResult,
  durationSeconds: number,
) {
  const database = await postgresDatabase(log);
  if (!database) return null;
  const processes: ChildProcess[] = [];
  try {
    log('PostgreSQL: serve --role web + 2 × serve --role worker…');
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
    const loaded = await load(web.url, pool, durationSeconds);
    const processing = await catchUp(web.url, loaded, durationSeconds);
    return { ...loaded, ratioToCeiling: loaded.acknowledgedPerSecond / ceiling.acknowledgedPerSecond, ...processing };
  } finally {
    for (const child of processes) await stop(child);
    await database.drop();
  }
}

export async function runIngestBench(log: (line: string) => void, options: { durationSeconds: number }) {
  const { durationSeconds } = options;
  log(`preparing deliveries…`);
  const pool = prepareDeliveries(Math.max(30_000, durationSeconds * 16_000), SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-bench-'));
  try {
    log(`ceiling: bare node:http + HMAC (${durationSeconds}s, ${connections} connections)…`);
    const ceilingServer = await start(['bench/ceiling-server.ts']);
    const ceiling = await load(ceilingServer.url, pool, durationSeconds);
    await stop(ceilingServer.child);

    log('serve --role web: acknowledge only, every reply after its group commit…');
    const ackDb = join(dir, 'ack.db');
    const ackServer = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', ackDb, '--role', 'web']);
    const ack = await load(ackServer.url, pool, durationSeconds);
    await stop(ackServer.child);

    log('drain: a dedicated worker turns the stored inbox into memory…');
    const drain = await drainInbox(ackDb);

    log('serve (default: worker in the same process)…');
    const fullServer = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', join(dir, 'full.db')]);
    const full = await load(fullServer.url, pool, durationSeconds);
    const fullProcessing = await catchUp(fullServer.url, full, durationSeconds);
    await stop(fullServer.child);

    const postgres = await runPostgresScenario(log, pool, ceiling, durationSeconds);

    return {
      durationSeconds,
      ceiling,
      serveAckOnly: { ...ack, ratioToCeiling: ack.acknowledgedPerSecond / ceiling.acknowledgedPerSecond },
      drain,
      postgresWebAndTwoWorkers: postgres,
      serveWithWorker: {
        ...full,
        ...fullProcessing,
        ratioToCeiling: full.acknowledgedPerSecond / ceiling.acknowledgedPerSecond,
        // Everything acknowledged was also processed by the end: the rate that counts for "keeps up".
        processedRatioToCeiling: fullProcessing.processedPerSecond / ceiling.acknowledgedPerSecond,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
