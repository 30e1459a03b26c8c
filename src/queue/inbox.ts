import { sql, type Selectable } from 'kysely';
import type { InboxTable } from '../memory/schema.js';
import type { SqliteDatabase } from '../memory/sqlite.js';
import type { DeliveryRouter } from './routing.js';

export interface Delivery {
  workspaceId: string;
  source: string;
  deliveryId: string;
  resource: string;
  action: string | null;
  /** The source's installation/connection id, if the delivery names one. */
  externalId: string | null;
  /** Set when the delivery announces a new installation: what to name the workspace it may get. */
  newInstallation?: { name: string };
  sentAt: string;
  body: string;
}

export type EnqueueResult = { accepted: true; duplicate: boolean; seq: number | null };
export type InboxRow = Selectable<InboxTable>;
export type InboxState = InboxTable['state'];

/**
 * The durable inbox. `enqueue` resolves only after the delivery's transaction has committed, and
 * deliveries that arrive in the same event-loop turn share one transaction (group commit): one fsync
 * for many acknowledgements instead of one each.
 */
export class Inbox {
  private batch: { delivery: Delivery; resolve: (r: EnqueueResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private readonly listeners = new Set<() => void>();

  /** Compiled once: at thousands of deliveries a second, building the query each time would cost more than the insert. */
  private readonly insert;

  /** `route`, when given, picks each delivery's workspace (see routing.ts); otherwise its own workspaceId is kept. */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly route?: DeliveryRouter,
  ) {
    const placeholder = '';
    this.insert = db.statement(
      db.qb
        .insertInto('inbox')
        .values({
          workspace_id: placeholder,
          delivery_id: placeholder,
          source: placeholder,
          resource: placeholder,
          action: placeholder,
          external_id: placeholder,
          sent_at: placeholder,
          received_at: placeholder,
          body: placeholder,
          state: 'pending',
          attempts: 0,
          next_attempt_at: placeholder,
        })
        .onConflict((oc) => oc.doNothing()),
    );
  }

  enqueue(delivery: Delivery): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.batch.push({ delivery, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Called after each commit that added deliveries, so an in-process worker wakes without polling. */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.scheduled = false;
    const now = new Date().toISOString();
    let results: EnqueueResult[];
    try {
      results = this.db.transaction(() =>
        batch.map(({ delivery }) => {
          const { workspaceId, state } = this.route?.(delivery) ?? { workspaceId: delivery.workspaceId, state: 'pending' };
          // Same order as the columns of the compiled insert above.
          const result = this.insert.run(
            workspaceId,
            delivery.deliveryId,
            delivery.source,
            delivery.resource,
            delivery.action,
            delivery.externalId,
            delivery.sentAt,
            now,
            delivery.body,
            state,
            0,
            now,
          );
          return { accepted: true as const, duplicate: result.changes === 0, seq: result.changes ? Number(result.lastInsertRowid) : null };
        }),
      );
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
    if (results.some((r) => !r.duplicate)) for (const listener of this.listeners) listener();
  }

  /** Pending deliveries due now, oldest first. */
  due(limit: number, now = new Date().toISOString()): InboxRow[] {
    return this.db.all(
      this.db.qb
        .selectFrom('inbox')
        .selectAll()
        // A literal, not a parameter: only then can SQLite use the partial index of pending rows.
        .where('state', '=', sql.lit('pending'))
        .where('next_attempt_at', '<=', now)
        .orderBy('seq')
        .limit(limit),
    );
  }

  /**
   * Whether a fetched row is still as it was fetched (pending, same attempts). Asked inside the
   * write transaction that processes it, so when several workers share the database, only one
   * applies a delivery; the others see it settled or rescheduled and leave it.
   */
  unchanged(row: Pick<InboxRow, 'seq' | 'attempts'>): boolean {
    const current = this.db.get(this.db.qb.selectFrom('inbox').select(['state', 'attempts']).where('seq', '=', row.seq));
    return current?.state === 'pending' && current.attempts === row.attempts;
  }

  settle(seq: number, state: Exclude<InboxState, 'pending'>, error: string | null = null): void {
    this.db.run(
      this.db.qb
        .updateTable('inbox')
        .set((eb) => ({ state, last_error: error, processed_at: new Date().toISOString(), attempts: eb('attempts', '+', 1) }))
        .where('seq', '=', seq),
    );
  }

  retryLater(seq: number, error: string, at: string): void {
    this.db.run(
      this.db.qb
        .updateTable('inbox')
        .set((eb) => ({ last_error: error, next_attempt_at: at, attempts: eb('attempts', '+', 1) }))
        .where('seq', '=', seq),
    );
  }

  /** One delivery of a workspace, by its sequence number. */
  find(workspaceId: string, seq: number): InboxRow | undefined {
    return this.db.get(this.db.qb.selectFrom('inbox').selectAll().where('workspace_id', '=', workspaceId).where('seq', '=', seq));
  }

  /**
   * Puts dead or skipped deliveries back in the queue as if new (attempts 0, due now), e.g. after the
   * fix that made them fail. `seq` picks one; without it, every dead delivery of the workspace.
   * Returns how many were re-queued. The last error stays until the delivery is processed.
   */
  requeue(workspaceId: string, seq?: number): number {
    const result = this.db.run(
      this.db.qb
        .updateTable('inbox')
        .set({ state: 'pending', attempts: 0, next_attempt_at: new Date().toISOString(), processed_at: null })
        .where('workspace_id', '=', workspaceId)
        .$if(seq === undefined, (qb) => qb.where('state', '=', 'dead'))
        .$if(seq !== undefined, (qb) => qb.where('seq', '=', seq!).where('state', 'in', ['dead', 'skipped'])),
    );
    if (result.changes > 0) for (const listener of this.listeners) listener();
    return result.changes;
  }

  countsByState(workspaceId: string): Record<InboxState, number> {
    const counts: Record<InboxState, number> = { pending: 0, processed: 0, skipped: 0, dead: 0, held: 0 };
    const rows = this.db.all(
      this.db.qb.selectFrom('inbox').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).where('workspace_id', '=', workspaceId).groupBy('state'),
    );
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }

  /** The most recent deliveries that did not become memory (skipped or dead), with why. */
  problems(workspaceId: string, limit: number): Pick<InboxRow, 'seq' | 'delivery_id' | 'resource' | 'action' | 'state' | 'attempts' | 'last_error' | 'received_at'>[] {
    return this.db.all(
      this.db.qb
        .selectFrom('inbox')
        .select(['seq', 'delivery_id', 'resource', 'action', 'state', 'attempts', 'last_error', 'received_at'])
        .where('workspace_id', '=', workspaceId)
        .where('state', 'in', ['skipped', 'dead'])
        .orderBy('seq', 'desc')
        .limit(limit),
    );
  }

  lastReceivedAt(workspaceId: string): string | null {
    const row = this.db.get(this.db.qb.selectFrom('inbox').select((eb) => eb.fn.max('received_at').as('at')).where('workspace_id', '=', workspaceId));
    return (row?.at as string | null | undefined) ?? null;
  }
}
