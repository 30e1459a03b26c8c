/**
 * The inbox thread's composition root (see queue/inbox-thread.ts): its own runtime on the same
 * store, driven by messages. runtime.ts starts it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from './logger.js';
import type { FromThread, InboxThreadData, ToThread } from './queue/inbox-thread.js';
import { DEDICATED_WORKER_BATCH_MS } from './queue/worker.js';
import { openRuntime } from './runtime.js';

const options = workerData as InboxThreadData;
const port = parentPort!;
const post = (message: FromThread) => port.postMessage(message);
const commitsWaiting = new Int32Array(options.commitsWaiting);

const runtime = await openRuntime({
  db: options.db,
  logger: createLogger(options.logLevel),
  busyTimeoutMs: options.busyTimeoutMs,
  // No HTTP shares this loop: batches run as long as a dedicated worker's, and end early when deliveries wait for their commit.
  worker: {
    ...options.worker,
    maxBatchMs: options.worker?.maxBatchMs ?? DEDICATED_WORKER_BATCH_MS,
    commitsWaiting: () => Atomics.load(commitsWaiting, 0) > 0,
  },
  workspacePerInstallation: options.workspacePerInstallation,
});

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'enqueue':
      // Every delivery of this message, and of any other that arrived in the same turn, shares one group commit.
      Promise.all(message.deliveries.map((delivery) => runtime.enqueue(delivery)))
        .finally(() => Atomics.sub(commitsWaiting, 0, 1))
        .then(
          (results) => post({ type: 'stored', id: message.id, results }),
          (error: unknown) => {
            const { message: text, code } = error as { message?: string; code?: unknown };
            post({
              type: 'failed',
              id: message.id,
              error: { message: String(text ?? error), code: typeof code === 'string' ? code : undefined },
            });
          },
        );
      break;
    case 'process':
      runtime.startProcessing();
      break;
    case 'close':
      void runtime.close().then(() => port.close());
      break;
  }
});
post({ type: 'ready' });
