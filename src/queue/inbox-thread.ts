import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Delivery, EnqueueResult } from './delivery.js';
import type { WorkerOptions } from './worker.js';

/** What the thread is started with (it opens its own connection to the same store). */
export interface InboxThreadOptions {
  db: string;
  busyTimeoutMs?: number;
  workspacePerInstallation?: boolean;
  worker?: WorkerOptions;
  logLevel: string;
}

/** What the thread receives: its options, and one Int32 counting enqueue messages posted and not yet committed (see send). */
export type InboxThreadData = InboxThreadOptions & { commitsWaiting: SharedArrayBuffer };

export type ToThread =
  { type: 'enqueue'; id: number; deliveries: Delivery[] } | { type: 'process' } | { type: 'close' };
export type FromThread =
  | { type: 'ready' }
  | { type: 'stored'; id: number; results: EnqueueResult[] }
  | { type: 'failed'; id: number; error: { message: string; code?: string } };

type Waiting = { resolve: (r: EnqueueResult) => void; reject: (e: unknown) => void }[];

/**
 * The embedded store's writer on a thread of its own. A SQLite commit (its fsync) and processing both
 * block whichever event loop runs them; here the HTTP loop only hands each turn's deliveries to the
 * thread in one message and goes on parsing requests, while the thread commits them in one group
 * commit and, between commits, turns the inbox into memory. A delivery is still acknowledged only
 * once the thread's commit has returned.
 */
export class InboxThread {
  private batch: { delivery: Delivery; resolve: (r: EnqueueResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private failure: Error | null = null;

  private constructor(
    private readonly thread: Worker,
    logger: Logger,
    private readonly commitsWaiting: Int32Array,
  ) {
    thread.on('message', (message: FromThread) => this.receive(message));
    thread.on('error', (error) => {
      logger.error({ err: error.message }, 'the inbox thread failed; deliveries are refused until restart');
      this.fail(error);
    });
    thread.on('exit', () => this.fail(new Error('the inbox thread has stopped')));
  }

  /** `entry`: the module the thread runs (the composition root that opens its runtime and answers messages). */
  static async start(entry: URL, options: InboxThreadOptions, logger: Logger): Promise<InboxThread> {
    const commitsWaiting = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const workerData: InboxThreadData = { ...options, commitsWaiting };
    // From source (tests, `tsx`), the thread needs the TypeScript loader too; the built package does not.
    const thread = new Worker(entry, {
      workerData,
      execArgv: entry.pathname.endsWith('.ts') ? ['--import', 'tsx'] : undefined,
    });
    const [message] = (await Promise.race([
      once(thread, 'message'),
      once(thread, 'error').then(([error]) => Promise.reject(error as Error)),
    ])) as [FromThread];
    if (message.type !== 'ready') throw new Error(`inbox thread: unexpected ${message.type}`);
    return new InboxThread(thread, logger, new Int32Array(commitsWaiting));
  }

  /** Resolves once the delivery is committed; deliveries of one event-loop turn travel in one message. */
  enqueue(delivery: Delivery): Promise<EnqueueResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.batch.push({ delivery, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  startProcessing(): void {
    this.post({ type: 'process' });
  }

  /** Stops processing (the batch in progress commits) and closes the thread's connection. */
  async close(): Promise<void> {
    if (this.failure) return;
    const exited = once(this.thread, 'exit');
    this.post({ type: 'close' });
    await exited;
  }

  private send(): void {
    const batch = this.batch;
    this.batch = [];
    this.scheduled = false;
    const id = this.nextId++;
    this.waiting.set(
      id,
      batch.map(({ resolve, reject }) => ({ resolve, reject })),
    );
    // Read by the thread's worker in the middle of a batch, when no message can reach it: the batch
    // commits early so that these deliveries are not kept waiting for a whole batch.
    Atomics.add(this.commitsWaiting, 0, 1);
    this.post({ type: 'enqueue', id, deliveries: batch.map((item) => item.delivery) });
  }

  private post(message: ToThread): void {
    this.thread.postMessage(message);
  }

  private receive(message: FromThread): void {
    if (message.type === 'ready') return;
    const waiting = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    if (!waiting) return;
    if (message.type === 'stored') waiting.forEach((w, i) => w.resolve(message.results[i]));
    // The code travels with the message: it is what says "disk full" or "database busy" to the sender.
    else
      waiting.forEach((w) => w.reject(Object.assign(new Error(message.error.message), { code: message.error.code })));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.waiting.values()) for (const w of waiting) w.reject(error);
    this.waiting.clear();
  }
}
