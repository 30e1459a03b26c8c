import type { Worker } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import { MemoryStore } from './memory/store.js';
import { Inbox, type Delivery, type EnqueueResult } from './queue/inbox.js';
import { ThreadedInboxWriter } from './queue/threaded-inbox-writer.js';
import { startThread } from './queue/threads.js';
import { InboxWorker, type WorkerOptions } from './queue/worker.js';
import { WritePriority } from './queue/write-priority.js';
import { SENTRY_SOURCE } from './sentry/source.js';
import { createSentryProcessor } from './sentry/webhooks/process.js';

export interface Runtime {
  store: MemoryStore;
  inbox: Inbox;
  /** The worker on this thread's connection; `startProcessing` may run another one on a thread instead. */
  worker: InboxWorker;
  logger: Logger;
  /** The acknowledgement path: resolves once the delivery is committed to the inbox. */
  enqueue(delivery: Delivery): Promise<EnqueueResult>;
  /** Starts draining the inbox into memory, on a processing thread when threads are on. */
  startProcessing(): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  dbPath: string;
  logger?: Logger;
  worker?: WorkerOptions;
  /**
   * Inbox commits and processing each on their own thread (what `serve` uses): the HTTP thread then
   * neither waits for fsync nor for processing. Off, everything runs on the calling thread.
   */
  threads?: boolean;
  /** See SqliteDatabase: false only for connections whose writes can be derived again. */
  durable?: boolean;
}

/** Opens the store, its inbox and a worker wired to every source's processor. Used by the CLI and by library users. */
export function openRuntime(options: RuntimeOptions): Runtime {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = new MemoryStore(options.dbPath, { durable: options.durable });
  const inbox = new Inbox(store.db);
  const worker = new InboxWorker(store.db, inbox, { [SENTRY_SOURCE]: createSentryProcessor(store.db) }, logger, options.worker);
  let processingThread: Worker | null = null;
  const priority = new WritePriority();
  const writer = options.threads ? new ThreadedInboxWriter(options.dbPath, priority.buffer, () => processingThread?.postMessage('wake')) : null;
  return {
    store,
    inbox,
    worker,
    logger,
    enqueue: (delivery) => (writer ? writer.enqueue(delivery) : inbox.enqueue(delivery)),
    startProcessing() {
      if (!options.threads) return worker.start();
      processingThread ??= startThread(import.meta.url, 'processing-thread', { dbPath: options.dbPath, logLevel: logger.level, priority: priority.buffer });
    },
    async close() {
      worker.stop();
      await writer?.close();
      if (processingThread) {
        const exited = new Promise((r) => processingThread!.once('exit', r));
        processingThread.postMessage('close');
        await exited;
      }
      store.close();
    },
  };
}
