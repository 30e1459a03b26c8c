/**
 * The processing thread of `serve`: drains the inbox into memory on its own connection, so that
 * mapping and merging use the second core instead of delaying acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { WritePriority } from './queue/write-priority.js';
import { openRuntime } from './runtime.js';

const { dbPath, logLevel, priority } = workerData as { dbPath: string; logLevel: string; priority: SharedArrayBuffer };
const writes = new WritePriority(priority);
// Not durable: everything this thread writes can be derived again from the inbox, which is.
const runtime = openRuntime({ dbPath, durable: false, logger: pino({ level: logLevel }), worker: { batchSize: 50, beforeBatch: () => writes.yield() } });
runtime.worker.start();

parentPort!.on('message', (message: 'wake' | 'close') => {
  if (message === 'wake') runtime.worker.wake();
  else void runtime.close().then(() => parentPort!.close());
});
