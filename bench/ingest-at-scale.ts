/**
 * Ingest into a memory that already holds a million observations, against an empty one: the same
 * signed deliveries are acknowledged by `serve --role web`, then a dedicated worker drains them, and
 * the drain rates are compared. The stored memory is a copy of the agent bench's (its records are in
 * another workspace, but share every table, index and full-text index, which is what grows).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRuntime } from '../src/runtime.js';
import { DEDICATED_WORKER_BATCH_MS } from '../src/queue/worker.js';
import { prepareDeliveries } from '../test/helpers/deliveries.js';
import { load, SECRET, start, stop } from './ingest.js';

async function drainRate(log: (line: string) => void, path: string, pool: ReturnType<typeof prepareDeliveries>): Promise<number> {
  const server = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', path, '--role', 'web']);
  const posted = await load(server.url, pool, { amount: pool.length });
  await stop(server.child);
  if (posted.non2xx || posted.errors) throw new Error(`ingest at scale: ${posted.non2xx} deliveries refused, ${posted.errors} errors`);
  const runtime = await openRuntime({ db: path, worker: { maxBatchMs: DEDICATED_WORKER_BATCH_MS } });
  try {
    const started = performance.now();
    const drained = await runtime.worker.drain();
    const seconds = (performance.now() - started) / 1000;
    if (drained !== pool.length) throw new Error(`ingest at scale: drained ${drained} of ${pool.length} deliveries`);
    const rate = Math.round(drained / seconds);
    log(`  ${drained} deliveries drained at ${rate}/s`);
    return rate;
  } finally {
    await runtime.close();
  }
}

export async function runIngestAtScaleBench(log: (line: string) => void, options: { storedDatabase: string; deliveries: number }) {
  const pool = prepareDeliveries(options.deliveries, SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-bench-scale-'));
  try {
    log('ingest into an empty memory…');
    const empty = await drainRate(log, join(dir, 'empty.db'), pool);
    log('ingest into a copy of the agent bench memory…');
    const storedPath = join(dir, 'stored.db');
    copyFileSync(options.storedDatabase, storedPath);
    const stored = await drainRate(log, storedPath, pool);
    return { deliveries: pool.length, emptyPerSecond: empty, storedPerSecond: stored, ratio: +(stored / empty).toFixed(2) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
