import { sql, type Compilable } from 'kysely';
import type { Logger } from 'pino';
import { isContention, isInvalidData, type MemoryDatabase } from '../memory/database.js';
import { applyBatch, foldable, type BatchUnit } from '../memory/batch-writer.js';
import { applyRecords } from '../memory/writer.js';
import type { Inbox } from './inbox.js';
import { PermanentError, type DeliveryProcessor, type InboxRow, type ProcessOutcome } from './delivery.js';

export interface WorkerOptions {
  /** Deliveries a batch takes at most (default 200 on SQLite, FOLDED_BATCH_SIZE on PostgreSQL). */
  batchSize?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs?: number;
  /** How often to look for work that another process enqueued or that became due. */
  pollMs?: number;
  /**
   * SQLite: a batch takes as many deliveries as fit this long at the rate measured so far, so that on
   * a shared event loop or thread the other work gets its turn between batches (default 15 ms; for a
   * dedicated worker, DEDICATED_WORKER_BATCH_MS). PostgreSQL's batches take `batchSize`.
   */
  maxBatchMs?: number;
  /**
   * Whether deliveries handed to this connection wait for their group commit (the inbox thread's
   * senders, see inbox-thread.ts). A batch is then sized to `sliceUnderLoadMs` instead of
   * maxBatchMs, so that their acknowledgement waits a slice, not a whole batch.
   */
  commitsWaiting?: () => boolean;
  /** Default BATCH_SLICE_UNDER_LOAD_MS. */
  sliceUnderLoadMs?: number;
}

/**
 * What a SQLite batch is sized to while deliveries wait for their group commit. Each processing
 * commit has a fixed cost (under load: 0.4 ms flushing the full-text indexes, 1.5 ms writing pages):
 * with 2 ms slices, memory fell thousands of deliveries behind a steady load; with 5, it kept up
 * (bench/ingest.ts, serve).
 */
export const BATCH_SLICE_UNDER_LOAD_MS = 5;

/**
 * The batch budget of a worker that has its event loop to itself (`serve --role worker`): longer
 * batches share one commit, and each commit also flushes the full-text indexes, so fewer is faster.
 */
export const DEDICATED_WORKER_BATCH_MS = 250;

/** See runBatch. */
const MERGE_LOCK_WAIT_MS = 25;

/**
 * PostgreSQL's batches fold this many deliveries into one write per table: a statement costs a round
 * trip and a plan whatever its rows, so larger batches cost less per delivery, up to where one
 * batch's transaction holds its rows' locks long enough to keep the other workers waiting.
 */
export const FOLDED_BATCH_SIZE = 500;

/** What a worker has done since it started: for benchmarks, and the operator's metrics. */
export interface WorkerStats {
  /** Deliveries settled: processed, skipped or dead. */
  deliveries: number;
  /** Deliveries left for a later batch because another worker held a record they merge into. */
  deferred: number;
  /** Statements sent to the database (see MemoryDatabase.statementsSent). */
  statements: number;
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
  private readonly commitsWaiting: () => boolean;
  private readonly sliceUnderLoadMs: number;
  /** Milliseconds a delivery has taken in recent batches (moving average): what sizes SQLite's batches. */
  private msPerDelivery = 0.5;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** The batch in progress, so that stop() can wait for it and wake() does not start a second one. */
  private current: Promise<void> | null = null;
  private again = false;
  private settledCount = 0;
  private deferredCount = 0;
  private readonly statementsAtStart: number;

  constructor(
    private readonly db: MemoryDatabase,
    private readonly inbox: Inbox,
    private readonly processors: Record<string, DeliveryProcessor>,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? (db.engine === 'postgres' ? FOLDED_BATCH_SIZE : 200);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.pollMs = options.pollMs ?? 1000;
    // PostgreSQL's batches wait on the network, not the CPU: the event loop serves HTTP meanwhile.
    this.maxBatchMs = options.maxBatchMs ?? (db.engine === 'postgres' ? DEDICATED_WORKER_BATCH_MS : 15);
    this.commitsWaiting = options.commitsWaiting ?? (() => false);
    this.sliceUnderLoadMs = options.sliceUnderLoadMs ?? BATCH_SLICE_UNDER_LOAD_MS;
    this.statementsAtStart = db.statementsSent();
  }

  get stats(): WorkerStats {
    return {
      deliveries: this.settledCount,
      deferred: this.deferredCount,
      statements: this.db.statementsSent() - this.statementsAtStart,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.inbox
      .onEnqueued(() => this.wake())
      .then((unsubscribe) => {
        if (this.running) this.unsubscribe = unsubscribe;
        else void unsubscribe();
      });
    this.wake();
  }

  /** New work was committed (here or by another process): look now rather than at the next poll. */
  wake(): void {
    this.schedule(0);
  }

  /** Stops taking batches; resolves when the batch in progress (if any) has committed or rolled back. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    await this.unsubscribe?.();
    this.unsubscribe = null;
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.current && delayMs === 0) {
      // A batch is running: it looks again for work when it ends.
      this.again = true;
      return;
    }
    if (delayMs > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.startBatch();
      }, delayMs);
      this.timer.unref?.();
    } else {
      // An immediate, not a loop: messages and requests that arrived meanwhile are handled first
      // (and not a zero timer, which Node rounds up to a millisecond of idling between batches).
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        this.startBatch();
      });
    }
  }

  private startBatch(): void {
    if (!this.running || this.current) return;
    // Deliveries this connection has taken for a group commit go first: their senders are waiting.
    if (this.inbox.commitQueued) return this.schedule(0);
    this.current = this.runBatch()
      .catch((error: unknown): number => {
        this.logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'inbox batch failed and rolled back; retrying at the next poll',
        );
        return 0;
      })
      .then((processed) => {
        this.current = null;
        const again = this.again;
        this.again = false;
        this.schedule(processed > 0 || again ? 0 : this.pollMs);
      });
  }

  /** Processes every delivery that is due now; returns how many it handled. For tests and the CLI. */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.runBatch(); n > 0; n = await this.runBatch()) total += n;
    return total;
  }

  /**
   * Takes one batch of due deliveries; returns how many it took (applied, settled or deferred).
   *
   * A batch claims its rows (on PostgreSQL FOR UPDATE SKIP LOCKED: workers sharing the inbox take
   * different rows, and the locks go at commit, processed or not; SQLite's one writer holds the whole
   * inbox), maps them, and applies their records together (applyBatch): one read and one write per
   * table for the whole batch, one settle, one commit. A delivery whose merge key another worker holds
   * is left pending for a later batch; one whose records a source's snapshot or a connection carries
   * goes alone, in its place; and when the folded write fails, each of its deliveries is tried alone,
   * with the dead-letter rules.
   */
  async runBatch(): Promise<number> {
    const started = performance.now();
    let taken = 0;
    // Not durable: what a batch writes can be derived again from the inbox, which is.
    await this.db.transaction(
      async (tx) => {
        // Only the deliveries that go alone wait for locks (see processOne), and not for long.
        if (tx.engine === 'postgres')
          await tx.run({
            compile: () => sql`SET LOCAL lock_timeout = ${sql.lit(`${MERGE_LOCK_WAIT_MS}ms`)}`.compile(tx.qb),
          });
        const rows = await this.inbox.due(this.nextBatchSize(), undefined, tx);
        taken = rows.length;
        // Processors read the memory (a deleted installation) the same for every delivery of a segment.
        const reads = memoizedReads(tx);
        const settled: Settled[] = [];
        let segment: { row: InboxRow; unit: BatchUnit }[] = [];
        const flush = async () => {
          const folded = segment;
          segment = [];
          reads.forget();
          if (folded.length) await this.applyFolded(tx, folded, settled);
        };
        for (const row of rows) {
          const processor = this.processors[row.source];
          let outcome: ProcessOutcome;
          try {
            if (!processor) throw new PermanentError(`no processor for source "${row.source}"`);
            outcome = await processor(reads, row);
          } catch (error) {
            await this.failed(tx, row, error);
            continue;
          }
          if ('skip' in outcome) {
            settled.push({ row, state: 'skipped', error: outcome.skip });
            continue;
          }
          const unit = { workspaceId: row.workspace_id, source: row.source, records: outcome.records };
          if (foldable(unit)) segment.push({ row, unit });
          else {
            await flush();
            await this.processOne(tx, row);
          }
        }
        await flush();
        await this.inbox.settleAll(tx, settled);
        this.settledCount += settled.length;
      },
      { durable: false },
    );
    if (taken) this.msPerDelivery = 0.7 * this.msPerDelivery + (0.3 * (performance.now() - started)) / taken;
    return taken;
  }

  /**
   * SQLite: as many deliveries as fit the time budget at the rate measured so far, so that a batch
   * (which blocks its thread's group commits until it commits) ends on time: the short slice while
   * deliveries wait for their commit, the whole budget otherwise; at least one, so that a steady load
   * cannot stop processing. PostgreSQL's batches wait on the network, not on the CPU, and hold no one
   * else's commit: they take the full batch.
   */
  private nextBatchSize(): number {
    if (this.db.engine === 'postgres') return this.batchSize;
    const budgetMs = this.commitsWaiting() ? this.sliceUnderLoadMs : this.maxBatchMs;
    return Math.max(1, Math.min(this.batchSize, Math.floor(budgetMs / this.msPerDelivery)));
  }

  private async applyFolded(
    tx: MemoryDatabase,
    folded: { row: InboxRow; unit: BatchUnit }[],
    settled: Settled[],
  ): Promise<void> {
    let applied: boolean[];
    try {
      applied = await tx.transaction((batch) =>
        applyBatch(
          batch,
          folded.map((f) => f.unit),
        ),
      );
    } catch (error) {
      if (isContention(error)) {
        // A row another worker's batch holds (past lock_timeout): the deliveries wait for a later
        // batch, as a held merge key makes them.
        this.deferredCount += folded.length;
        return;
      }
      this.logger.info(
        { deliveries: folded.length, err: error instanceof Error ? error.message : String(error) },
        'a folded write failed; applying its deliveries one by one',
      );
      for (const { row } of folded) await this.processOne(tx, row);
      return;
    }
    folded.forEach(({ row }, i) => {
      if (applied[i]) settled.push({ row, state: 'processed', error: null });
      else this.deferredCount += 1;
    });
  }

  private async processOne(tx: MemoryDatabase, row: InboxRow): Promise<void> {
    if (!(await this.inbox.claim(tx, row))) return; // another worker process got to it first
    const processor = this.processors[row.source];
    try {
      await tx.transaction(async (delivery) => {
        if (!processor) throw new PermanentError(`no processor for source "${row.source}"`);
        const outcome = await processor(delivery, row);
        if ('skip' in outcome) {
          await this.inbox.settle(delivery, row, 'skipped', outcome.skip);
          return;
        }
        await applyRecords(delivery, row.workspace_id, row.source, outcome.records);
        await this.inbox.settle(delivery, row, 'processed');
      });
      this.settledCount += 1;
    } catch (error) {
      await this.failed(tx, row, error);
    }
  }

  /** A delivery that could not be processed: retried later with backoff, or dead-lettered. */
  private async failed(tx: MemoryDatabase, row: InboxRow, error: unknown): Promise<void> {
    if (isContention(error)) {
      // Another worker holds a record this delivery merges into (PostgreSQL broke the deadlock by
      // failing us): not the delivery's fault. It stays pending, unattempted, for the next batch,
      // by when the other transaction has committed.
      this.deferredCount += 1;
      this.logger.debug(
        { seq: row.seq, err: (error as Error).message },
        'delivery collided with another worker; retrying next batch',
      );
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const attempts = row.attempts + 1;
    if (error instanceof PermanentError || isInvalidData(error) || attempts >= this.maxAttempts) {
      await this.inbox.settle(tx, row, 'dead', message);
      this.settledCount += 1;
      this.logger.warn(
        { seq: row.seq, resource: row.resource, action: row.action, attempts, err: message },
        'delivery dead-lettered',
      );
    } else {
      const delay = this.retryBaseMs * 2 ** (attempts - 1);
      await this.inbox.retryLater(tx, row, message, new Date(Date.now() + delay).toISOString());
      this.logger.info({ seq: row.seq, attempts, retryInMs: delay, err: message }, 'delivery failed, will retry');
    }
  }
}

/** A delivery's end state, for one settle of the whole batch. */
interface Settled {
  row: InboxRow;
  state: 'processed' | 'skipped';
  error: string | null;
}

/**
 * `db` whose reads are kept until `forget`: processors of one batch segment ask the same questions
 * (is this installation deleted?) and nothing they read changes until the segment is written.
 */
function memoizedReads(db: MemoryDatabase): MemoryDatabase & { forget(): void } {
  const cache = new Map<string, Promise<unknown>>();
  const memo = <T>(query: Compilable<unknown>, read: () => Promise<T>): Promise<T> => {
    const { sql: text, parameters } = query.compile();
    const key = JSON.stringify([text, parameters]);
    if (!cache.has(key)) cache.set(key, read());
    return cache.get(key) as Promise<T>;
  };
  return Object.assign(Object.create(db) as MemoryDatabase, {
    all: <R>(query: Compilable<R>) => memo(query, () => db.all(query)),
    get: <R>(query: Compilable<R>) => memo(query, () => db.get(query)),
    forget: () => cache.clear(),
  });
}
