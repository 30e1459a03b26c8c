/** The inbox thread (see inbox-thread.ts): its own runtime on the same store, driven by messages. */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../logger.js';
import { openRuntime } from '../runtime.js';
import type { FromThread, InboxThreadOptions, ToThread } from './inbox-thread.js';

const options = workerData as InboxThreadOptions;
const port = parentPort!;
const post = (message: FromThread) => port.postMessage(message);

const runtime = await openRuntime({
  db: options.db,
  logger: createLogger(options.logLevel),
  busyTimeoutMs: options.busyTimeoutMs,
  worker: options.worker,
  workspacePerInstallation: options.workspacePerInstallation,
});

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'enqueue':
      // Every delivery of this message, and of any other that arrived in the same turn, shares one group commit.
      Promise.all(message.deliveries.map((delivery) => runtime.enqueue(delivery))).then(
        (results) => post({ type: 'stored', id: message.id, results }),
        (error: unknown) => {
          const { message: text, code } = error as { message?: string; code?: unknown };
          post({ type: 'failed', id: message.id, error: { message: String(text ?? error), code: typeof code === 'string' ? code : undefined } });
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
