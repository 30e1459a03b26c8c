import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { MemoryStore } from './memory/store.js';
import type { Delivery, EnqueueResult } from './queue/delivery.js';
import { Inbox } from './queue/inbox.js';
import { InboxThread } from './queue/inbox-thread.js';
import { routeByInstallation } from './queue/routing.js';
import { InboxWorker, type WorkerOptions } from './queue/worker.js';
import { SENTRY_SOURCE } from './sentry/source.js';
import { createSentryProcessor } from './sentry/webhooks/process.js';

export interface Runtime {
  store: MemoryStore;
  inbox: Inbox;
  worker: InboxWorker;
  logger: Logger;
  /** The acknowledgement path: resolves once the delivery is committed to the inbox. */
  enqueue(delivery: Delivery): Promise<EnqueueResult>;
  /** Starts draining the inbox into memory: on the inbox thread when there is one, else on this event loop between acknowledgements. */
  startProcessing(): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** A SQLite file, or a postgres:// URL. */
  db: string;
  logger?: Logger;
  worker?: WorkerOptions;
  /** Milliseconds a write waits for another connection's lock (default 5000). */
  busyTimeoutMs?: number;
  /** Store each delivery in the workspace of the installation it names (see queue/routing.ts). */
  workspacePerInstallation?: boolean;
  /**
   * On SQLite, commit deliveries and process them on a thread of their own (queue/inbox-thread.ts),
   * so that neither blocks this event loop; what `serve` does. PostgreSQL's commits never block it.
   */
  inboxThread?: boolean;
}

/** The inbox thread's entry point, beside this file (.ts from source, .js built). */
const THREAD_ENTRY = new URL(`./inbox-thread-entry${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** Opens the store, its inbox and a worker wired to every source's processor. Used by the CLI and by library users. */
export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = await MemoryStore.open(options.db, { busyTimeoutMs: options.busyTimeoutMs });
  const inbox = new Inbox(store.db, options.workspacePerInstallation ? await routeByInstallation(store.db) : undefined);
  const worker = new InboxWorker(store.db, inbox, { [SENTRY_SOURCE]: createSentryProcessor() }, logger, options.worker);
  const thread =
    options.inboxThread && store.db.engine === 'sqlite'
      ? await InboxThread.start(
          THREAD_ENTRY,
          {
            db: options.db,
            busyTimeoutMs: options.busyTimeoutMs,
            workspacePerInstallation: options.workspacePerInstallation,
            worker: options.worker,
            logLevel: logger.level,
          },
          logger,
        )
      : null;
  return {
    store,
    inbox,
    worker,
    logger,
    enqueue: thread ? (delivery) => thread.enqueue(delivery) : (delivery) => inbox.enqueue(delivery),
    startProcessing: () => (thread ? thread.startProcessing() : worker.start()),
    async close() {
      await worker.stop();
      await thread?.close();
      await store.close();
    },
  };
}
