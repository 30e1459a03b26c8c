import type { Worker } from 'node:worker_threads';
import type { Delivery, EnqueueResult } from './inbox.js';
import { startThread } from './threads.js';

type Reply = { id: number; result: EnqueueResult } | { id: number; error: string };

/** Enqueues through the writer thread; resolves once the delivery's batch has committed there. */
export class ThreadedInboxWriter {
  private readonly thread: Worker;
  private readonly waiting = new Map<number, { resolve: (r: EnqueueResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(dbPath: string, priority: SharedArrayBuffer, onCommitted: () => void) {
    this.thread = startThread(import.meta.url, 'inbox-writer-thread', { dbPath, priority });
    this.thread.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(reply.error));
      else {
        waiter?.resolve(reply.result);
        if (!reply.result.duplicate) onCommitted();
      }
    });
    this.thread.on('error', (error) => {
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    });
  }

  enqueue(delivery: Delivery): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ id, delivery });
    });
  }

  /** Lets every posted delivery commit, then stops the thread. */
  async close(): Promise<void> {
    while (this.waiting.size) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => this.thread.once('exit', r));
    this.thread.postMessage('close');
    await exited;
  }
}
