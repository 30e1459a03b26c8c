/**
 * Webhook ingest benchmark: signed, unique, real-shaped deliveries at full speed (autocannon, 32
 * connections) against `sentry-memory serve` and, in the same run, against the bare ceiling server.
 * Then how fast the worker drains the inbox into memory. PostgreSQL's figures are bench/scale-out.ts's.
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

/**
 * Posts deliveries for `durationSeconds`, or `{ amount }` of them (each once when the pool holds that
 * many); as fast as they are acknowledged, or `overallRate` a second.
 */
export async function load(
  url: string,
  deliveries: PreparedDelivery[],
  durationSeconds: number | { amount: number },
  overallRate?: number,
): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/webhooks/sentry`,
    method: 'POST',
    connections,
    ...(overallRate !== undefined && { overallRate }),
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

/** The PostgreSQL server the bench uses (BENCH_PG_URL, default the local one). */
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let databases = 0;

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the PostgreSQL server (a copy of `template` when given: no connection to it may
 * be open), or null, said in the log, when none answers.
 */
export async function postgresDatabase(
  log: (line: string) => void,
  template?: string,
): Promise<{ url: string; name: string; drop: () => Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    log(`PostgreSQL scenario skipped: no server at ${PG_ADMIN_URL} (${(error as Error).message})`);
    return null;
  }
  const name = `sm_bench_${process.pid}_${++databases}`;
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
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

    return {
      durationSeconds,
      ceiling,
      serveAckOnly: { ...ack, ratioToCeiling: ack.acknowledgedPerSecond / ceiling.acknowledgedPerSecond },
      drain,
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
