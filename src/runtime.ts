import pino, { type Logger } from 'pino';
import { MemoryStore } from './memory/store.js';
import { Inbox } from './queue/inbox.js';
import { InboxWorker, type WorkerOptions } from './queue/worker.js';
import { createSentryProcessor, SENTRY_SOURCE } from './sentry/webhooks/process.js';

export interface Runtime {
  store: MemoryStore;
  inbox: Inbox;
  worker: InboxWorker;
  logger: Logger;
  close(): void;
}

/** Opens the store, its inbox and a worker wired to every source's processor. Used by the CLI and by library users. */
export function openRuntime(options: { dbPath: string; logger?: Logger; worker?: WorkerOptions }): Runtime {
  const logger = options.logger ?? pino({ level: 'silent' });
  const store = new MemoryStore(options.dbPath);
  const inbox = new Inbox(store.db);
  const worker = new InboxWorker(store.db, inbox, { [SENTRY_SOURCE]: createSentryProcessor(store.db) }, logger, options.worker);
  return {
    store,
    inbox,
    worker,
    logger,
    close() {
      worker.stop();
      store.close();
    },
  };
}
