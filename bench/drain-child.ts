/**
 * One worker process of bench/scale-out.ts's drain: opens the memory at argv[2] with a dedicated worker,
 * says "ready", waits for SIGUSR2 (the common start), drains until no delivery is pending, and
 * prints one JSON line: its worker's counters (null before the worker keeps them).
 */
import { DEFAULT_WORKSPACE } from '../src/config.js';
import { DEDICATED_WORKER_BATCH_MS, type InboxWorker } from '../src/queue/worker.js';
import { openRuntime } from '../src/runtime.js';

export interface WorkerStats {
  deliveries: number;
  deferred: number;
  statements: number;
}

export interface DrainChildResult {
  stats: WorkerStats | null;
}

/** The counters the set-based PostgreSQL worker adds; absent before it. */
const statsOf = (worker: InboxWorker) => (worker as InboxWorker & { stats?: WorkerStats }).stats;

const runtime = await openRuntime({ db: process.argv[2], worker: { maxBatchMs: DEDICATED_WORKER_BATCH_MS } });
// A signal, not a line on stdin: the bench starts its processes with stdin closed. (SIGUSR1 would open the inspector.)
const started = new Promise((resolve) => process.once('SIGUSR2', resolve));
console.log('ready');
await started;
// drain() stops when every pending row left is locked by another worker's batch (or was deferred):
// looked at again until none is pending.
for (;;) {
  await runtime.worker.drain();
  if ((await runtime.inbox.countsByState(DEFAULT_WORKSPACE)).pending === 0) break;
  await new Promise((r) => setTimeout(r, 5));
}
const stats = statsOf(runtime.worker);
const result: DrainChildResult = { stats: stats ? { ...stats } : null };
console.log(JSON.stringify(result));
await runtime.close();
