/**
 * Ingest into a memory that already holds a million observations, against an empty one: the same
 * signed deliveries are acknowledged by `serve --role web`, then a dedicated worker drains them, and
 * the drain rates are compared. The stored memory is a copy of the agent bench's (its records are in
 * another workspace, but share every table, index and full-text index, which is what grows).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDeliveries } from '../test/helpers/deliveries.js';
import { drainInbox, load, SECRET, start, stop } from './ingest.js';

async function drainRate(
  log: (line: string) => void,
  path: string,
  pool: ReturnType<typeof prepareDeliveries>,
): Promise<number> {
  const server = await start(['src/cli/main.ts', 'serve', '--port', '0', '--db', path, '--role', 'web']);
  const posted = await load(server.url, pool, { amount: pool.length });
  await stop(server.child);
  if (posted.non2xx || posted.errors)
    throw new Error(`ingest at scale: ${posted.non2xx} deliveries refused, ${posted.errors} errors`);
  const drain = await drainInbox(path);
  if (drain.deliveries !== pool.length)
    throw new Error(`ingest at scale: drained ${drain.deliveries} of ${pool.length} deliveries`);
  log(`  ${drain.deliveries} deliveries drained at ${drain.perSecond}/s`);
  return drain.perSecond;
}

export async function runIngestAtScaleBench(
  log: (line: string) => void,
  options: { storedDatabase: string; deliveries: number },
) {
  const pool = prepareDeliveries(options.deliveries, SECRET);
  const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-bench-scale-'));
  try {
    log('ingest into an empty memory…');
    const empty = await drainRate(log, join(dir, 'empty.db'), pool);
    log('ingest into a copy of the agent bench memory…');
    const storedPath = join(dir, 'stored.db');
    copyFileSync(options.storedDatabase, storedPath);
    const stored = await drainRate(log, storedPath, pool);
    return { deliveries: pool.length, emptyPerSecond: empty, storedPerSecond: stored, ratio: stored / empty };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
