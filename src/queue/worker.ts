import type { Logger } from 'pino';
import type { MemoryRecord } from '../memory/records.js';
import type { SqliteDatabase } from '../memory/sqlite.js';
import { applyRecords } from '../memory/writer.js';
import type { Inbox, InboxRow } from './inbox.js';

/** What processing one delivery produced: records to merge, or a reason it is kept but not processed. */
export type ProcessOutcome = { records: MemoryRecord[] } | { skip: string };
export type DeliveryProcessor = (row: InboxRow) => ProcessOutcome;

/** A failure that retrying cannot fix (a malformed payload): the delivery goes dead at once. */
export class PermanentError extends Error {}

export interface WorkerOptions {
  batchSize?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number;
  /** How often to look for work that another process enqueued or that became due. */
  pollMs?: number;
  /**
   * A batch stops taking deliveries after this long, so that on a shared event loop the HTTP side
   * gets its turn between batches (default 15 ms).
   */
  maxBatchMs?: number;
}

/**
 * Drains the inbox into memory. Each delivery's records and its `processed` mark commit together,
 * so a crash at any point leaves it either untouched (pending, retried on restart) or fully applied.
 * A batch shares one transaction; each delivery runs in its own savepoint so one failure does not
 * undo the others.
 */
export class InboxWorker {
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly pollMs: number;
  private readonly maxBatchMs: number;
  private fetched: InboxRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly inbox: Inbox,
    private readonly processors: Record<string, DeliveryProcessor>,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.pollMs = options.pollMs ?? 1000;
    this.maxBatchMs = options.maxBatchMs ?? 15;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.inbox.onEnqueued(() => this.wake());
    this.wake();
  }

  /** New work was committed (here or by another thread): look now rather than at the next poll. */
  wake(): void {
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      let processed = 0;
      try {
        processed = this.runBatch();
      } catch (error) {
        this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'inbox batch failed and rolled back; retrying at the next poll');
      }
      // A timer, not a loop: pending acknowledgements run between two batches.
      this.schedule(processed > 0 ? 0 : this.pollMs);
    }, delayMs);
    this.timer.unref?.();
  }

  /** Processes every delivery that is due now; returns how many it handled. For tests and the CLI. */
  drain(): number {
    let total = 0;
    for (let n = this.runBatch(); n > 0; n = this.runBatch()) total += n;
    return total;
  }

  runBatch(): number {
    // Rows fetched but not reached within the time budget wait here for the next batch, rather
    // than being read again; processOne skips any that another worker process settled meanwhile.
    if (!this.fetched.length) this.fetched = this.inbox.due(this.batchSize);
    if (!this.fetched.length) return 0;
    const deadline = performance.now() + this.maxBatchMs;
    let processed = 0;
    try {
      // Not durable: what a batch writes can be derived again from the inbox, which is.
      this.db.transaction(() => {
        while (this.fetched.length && (processed === 0 || performance.now() < deadline)) {
          this.processOne(this.fetched.shift()!);
          processed += 1;
        }
      }, { durable: false });
    } catch (error) {
      // The whole batch rolled back (lock held past the busy timeout, disk full): its rows are
      // still pending as stored, so read them again next time.
      this.fetched = [];
      throw error;
    }
    return processed;
  }

  private processOne(row: InboxRow): void {
    if (!this.inbox.unchanged(row)) return; // another worker process got to it first
    const processor = this.processors[row.source];
    try {
      this.db.transaction(() => {
        if (!processor) throw new PermanentError(`no processor for source "${row.source}"`);
        const outcome = processor(row);
        if ('skip' in outcome) {
          this.inbox.settle(row.seq, 'skipped', outcome.skip);
          return;
        }
        applyRecords(this.db, row.workspace_id, row.source, outcome.records);
        this.inbox.settle(row.seq, 'processed');
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const attempts = row.attempts + 1;
      if (error instanceof PermanentError || attempts >= this.maxAttempts) {
        this.inbox.settle(row.seq, 'dead', message);
        this.logger.warn({ seq: row.seq, resource: row.resource, action: row.action, attempts, err: message }, 'delivery dead-lettered');
      } else {
        const delay = this.retryBaseMs * 2 ** (attempts - 1);
        this.inbox.retryLater(row.seq, message, new Date(Date.now() + delay).toISOString());
        this.logger.info({ seq: row.seq, attempts, retryInMs: delay, err: message }, 'delivery failed, will retry');
      }
    }
  }
}
