import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Database, InboxTable } from '../memory/schema.js';
import { bindable, isContention, prepared, type MemoryDatabase } from '../memory/database.js';
import type { Delivery, DeliveryRouter, EnqueueResult, InboxRow, InboxState, Route } from './delivery.js';

/** The states a delivery can be retried from: it did not become memory. */
const RETRYABLE: readonly InboxState[] = ['dead', 'skipped'];

/** What a retry of one delivery did: re-queued it, or why not (no such delivery; not in a state to retry). */
export type RetryOutcome = { state: 'pending' } | { missing: string } | { conflict: string };

/** Deliveries per statement on PostgreSQL: 9 parameters each, well under its 65,535. */
const ROWS_PER_INSERT = 1000;

/** A delivery's inbox key (unique per workspace, source and delivery id) as one string. */
const deliveryKey = (workspaceId: string, source: string, deliveryId: string) =>
  `${workspaceId}\u0000${source}\u0000${deliveryId}`;

/** A new delivery's inbox row, due at once. Its body goes to inbox_bodies under the same seq. */
function inboxRow(d: Delivery, route: Route, now: string) {
  return {
    workspace_id: route.workspaceId,
    delivery_id: d.deliveryId,
    source: d.source,
    resource: d.resource,
    action: d.action,
    external_id: d.externalId,
    sent_at: d.sentAt,
    received_at: now,
    state: route.state,
    attempts: 0,
    next_attempt_at: now,
  };
}

/**
 * Selects an inbox row's body beside it. A subquery rather than a join: FOR UPDATE then locks the
 * inbox row alone.
 */
export function bodyOfRow(eb: ExpressionBuilder<Database, 'inbox'>) {
  return eb
    .selectFrom('inbox_bodies')
    .select('inbox_bodies.body')
    .whereRef('inbox_bodies.workspace_id', '=', 'inbox.workspace_id')
    .whereRef('inbox_bodies.seq', '=', 'inbox.seq')
    .$asScalar()
    .$notNull()
    .as('body');
}

/** Notified when deliveries are committed, so workers wake without polling (across processes on PostgreSQL). */
const INBOX_CHANNEL = 'sentry_memory_inbox';

/**
 * The durable inbox. `enqueue` resolves only after the delivery's transaction has committed, and
 * deliveries that arrive in the same event-loop turn share one transaction (group commit): one fsync
 * for many acknowledgements instead of one each.
 */
export class Inbox {
  private batch: { delivery: Delivery; resolve: (r: EnqueueResult) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  /** Compiled once: at thousands of deliveries a second, building the queries each time would cost more than the inserts. */
  private readonly insert;
  private readonly insertBody;

  /** `route`, when given, picks each delivery's workspace (see routing.ts); otherwise its own workspaceId is kept. */
  constructor(
    private readonly db: MemoryDatabase,
    private readonly route?: DeliveryRouter,
  ) {
    const placeholder = '';
    const shape: Delivery = {
      workspaceId: placeholder,
      source: placeholder,
      deliveryId: placeholder,
      resource: placeholder,
      action: placeholder,
      externalId: placeholder,
      sentAt: placeholder,
      body: placeholder,
    };
    this.insert = bindable(
      db.qb
        .insertInto('inbox')
        .values(inboxRow(shape, { workspaceId: placeholder, state: 'pending' }, placeholder))
        .onConflict((oc) => oc.doNothing())
        .returning('seq'),
    );
    this.insertBody = bindable(
      db.qb.insertInto('inbox_bodies').values({ workspace_id: placeholder, seq: 0, body: placeholder }),
    );
  }

  /** Whether deliveries are waiting for the group commit scheduled for this turn. */
  get commitQueued(): boolean {
    return this.scheduled;
  }

  enqueue(delivery: Delivery): Promise<EnqueueResult> {
    return new Promise((resolve, reject) => {
      this.batch.push({ delivery, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Calls `listener` after each commit that added deliveries, here or (on PostgreSQL) in any process. Returns how to stop. */
  onEnqueued(listener: () => void): Promise<() => Promise<void>> {
    return this.db.listen(INBOX_CHANNEL, listener);
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.scheduled = false;
    const now = new Date().toISOString();
    const deliveries = batch.map((item) => item.delivery);
    let results: EnqueueResult[];
    try {
      results = await this.store(deliveries, now);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => item.resolve(results[i]));
  }

  /**
   * The whole batch at once: one transaction on SQLite and wherever a router reads first; on
   * PostgreSQL see insertAll. A collision between processes' batches is retried.
   */
  private async store(deliveries: Delivery[], now: string, attempt = 1): Promise<EnqueueResult[]> {
    try {
      const named = () => deliveries.map((d) => ({ workspaceId: d.workspaceId, state: 'pending' as const }));
      // Without a router nothing is read first: the statements need no transaction around them.
      if (this.db.engine === 'postgres' && !this.route) return await insertAll(this.db, deliveries, named(), now);
      return await this.db.transaction(async (tx) => {
        const routes = this.route ? await this.route(tx, deliveries) : named();
        if (tx.engine === 'postgres') return insertAll(tx, deliveries, routes, now);
        // SQLite has one writer at a time: there, arrival order costs nothing and risks nothing.
        const stored: EnqueueResult[] = new Array(deliveries.length);
        for (const [i, delivery] of deliveries.entries()) {
          // The compiled insert lists the columns in inboxRow's order.
          const row = await tx.get(this.insert(...Object.values(inboxRow(delivery, routes[i], now))));
          if (row) await tx.run(this.insertBody(routes[i].workspaceId, row.seq, delivery.body));
          stored[i] = { accepted: true as const, duplicate: row === undefined, seq: row ? Number(row.seq) : null };
        }
        if (stored.some((r) => !r.duplicate)) await tx.notify(INBOX_CHANNEL);
        return stored;
      });
    } catch (error) {
      if (isContention(error) && attempt < 3) return this.store(deliveries, now, attempt + 1);
      throw error;
    }
  }

  /**
   * Pending deliveries due now, oldest first. With `tx` on PostgreSQL, the rows are locked for that
   * transaction and rows another worker's batch holds are skipped (FOR UPDATE SKIP LOCKED): several
   * workers take consecutive chunks instead of racing for the same rows.
   */
  due(limit: number, now = new Date().toISOString(), tx?: MemoryDatabase): Promise<InboxRow[]> {
    const db = tx ?? this.db;
    if (db.engine === 'sqlite') {
      // The partial index of pending rows, by name: with statistics taken while many rows were pending
      // (PRAGMA optimize at open), SQLite chose to scan the table from its first row for every batch,
      // reading every processed delivery again (a quarter of the drain's time at 20,000 deliveries).
      const pending = sql<
        Selectable<InboxTable>
      >`(SELECT * FROM inbox INDEXED BY inbox_pending WHERE state = 'pending')`.as('inbox');
      return db.all(
        db.qb
          .selectFrom(pending)
          .selectAll()
          .select(bodyOfRow)
          .where('next_attempt_at', '<=', now)
          .orderBy('seq')
          .limit(limit),
      );
    }
    // A literal, not a parameter: a generic plan could not use the partial index of pending rows.
    const query = db.qb
      .selectFrom('inbox')
      .selectAll()
      .select(bodyOfRow)
      .where('state', '=', sql.lit('pending'))
      .where('next_attempt_at', '<=', now)
      .orderBy('seq')
      .limit(limit);
    return db.all(tx ? query.forUpdate().skipLocked() : query);
  }

  /**
   * Claims a fetched row for the transaction `tx` if it is still as it was fetched (pending, same
   * attempts). When several workers share the database, only one applies a delivery: on SQLite the
   * write transaction is exclusive; on PostgreSQL the row is locked, and a row another worker has
   * locked is skipped (FOR UPDATE SKIP LOCKED) rather than waited for.
   */
  async claim(tx: MemoryDatabase, row: Pick<InboxRow, 'workspace_id' | 'seq' | 'attempts'>): Promise<boolean> {
    const statement = prepared(tx, 'claim inbox row', (qb) => {
      const query = qb
        .selectFrom('inbox')
        .select(['state', 'attempts'])
        .where('workspace_id', '=', '')
        .where('seq', '=', 0);
      return tx.engine === 'postgres' ? query.forUpdate().skipLocked() : query;
    });
    const current = await tx.get(statement(row.workspace_id, row.seq));
    return current?.state === 'pending' && current.attempts === row.attempts;
  }

  settle(
    tx: MemoryDatabase,
    row: Pick<InboxRow, 'workspace_id' | 'seq'>,
    state: Exclude<InboxState, 'pending'>,
    error: string | null = null,
  ): Promise<unknown> {
    const statement = prepared(tx, 'settle inbox row', (qb) =>
      qb
        .updateTable('inbox')
        .set((eb) => ({ state: 'processed', last_error: '', processed_at: '', attempts: eb('attempts', '+', 1) }))
        .where('workspace_id', '=', '')
        .where('seq', '=', 0),
    );
    return tx.run(statement(state, error, new Date().toISOString(), 1, row.workspace_id, row.seq));
  }

  /**
   * Settles many deliveries in one statement (processed or skipped; `error` is the skip's reason),
   * as `settle` does one.
   */
  async settleAll(
    tx: MemoryDatabase,
    settled: readonly {
      row: Pick<InboxRow, 'workspace_id' | 'seq'>;
      state: 'processed' | 'skipped';
      error: string | null;
    }[],
  ): Promise<void> {
    const now = new Date().toISOString();
    for (let start = 0; start < settled.length; start += ROWS_PER_INSERT) {
      const values = settled
        .slice(start, start + ROWS_PER_INSERT)
        .map(({ row, state, error }) => sql`(${row.workspace_id}, CAST(${row.seq} AS bigint), ${state}, ${error})`);
      const update = sql`UPDATE inbox SET state = v.column3, last_error = v.column4, processed_at = ${now}, attempts = attempts + 1
              FROM (VALUES ${sql.join(values)}) AS v
             WHERE inbox.workspace_id = v.column1 AND inbox.seq = v.column2`;
      await tx.run({ compile: () => update.compile(tx.qb) });
    }
  }

  retryLater(
    tx: MemoryDatabase,
    row: Pick<InboxRow, 'workspace_id' | 'seq'>,
    error: string,
    at: string,
  ): Promise<unknown> {
    return tx.run(
      tx.qb
        .updateTable('inbox')
        .set((eb) => ({ last_error: error, next_attempt_at: at, attempts: eb('attempts', '+', 1) }))
        .where('workspace_id', '=', row.workspace_id)
        .where('seq', '=', row.seq),
    );
  }

  /** One delivery of a workspace, by its sequence number. */
  find(workspaceId: string, seq: number): Promise<InboxRow | undefined> {
    return this.db.get(
      this.db.qb
        .selectFrom('inbox')
        .selectAll()
        .select(bodyOfRow)
        .where('workspace_id', '=', workspaceId)
        .where('seq', '=', seq),
    );
  }

  /**
   * The body of the newest delivery of `resource`.`action` that names installation `externalId`, if
   * one is stored: what an installation's activation reads its one-time code from.
   */
  async newestBody(
    workspaceId: string,
    resource: string,
    action: string,
    externalId: string,
  ): Promise<string | undefined> {
    const row = await this.db.get(
      this.db.qb
        .selectFrom('inbox')
        .select(bodyOfRow)
        .where('workspace_id', '=', workspaceId)
        .where('resource', '=', resource)
        .where('action', '=', action)
        .where('external_id', '=', externalId)
        .orderBy('seq', 'desc')
        .limit(1),
    );
    return row?.body;
  }

  /**
   * Puts dead or skipped deliveries back in the queue as if new (attempts 0, due now), e.g. after the
   * fix that made them fail. `seq` picks one; without it, every dead delivery of the workspace.
   * Returns how many were re-queued. The last error stays until the delivery is processed.
   */
  async requeue(workspaceId: string, seq?: number): Promise<number> {
    const result = await this.db.run(
      this.db.qb
        .updateTable('inbox')
        .set({ state: 'pending', attempts: 0, next_attempt_at: new Date().toISOString(), processed_at: null })
        .where('workspace_id', '=', workspaceId)
        .$if(seq === undefined, (qb) => qb.where('state', '=', 'dead'))
        .$if(seq !== undefined, (qb) => qb.where('seq', '=', seq!).where('state', 'in', ['dead', 'skipped'])),
    );
    if (result.changes > 0) await this.db.notify(INBOX_CHANNEL);
    return result.changes;
  }

  /**
   * Re-queues one dead or skipped delivery (see `requeue`), or says why not: the rules of a retry,
   * for the CLI and the HTTP API alike.
   */
  async retry(workspaceId: string, seq: number): Promise<RetryOutcome> {
    const row = await this.db.get(
      this.db.qb.selectFrom('inbox').select('state').where('workspace_id', '=', workspaceId).where('seq', '=', seq),
    );
    if (!row) return { missing: `no delivery #${seq} in workspace "${workspaceId}"` };
    const refused = (state: InboxState) => ({
      conflict: `delivery #${seq} is ${state}; only ${RETRYABLE.join(' or ')} deliveries can be retried`,
    });
    if (!RETRYABLE.includes(row.state)) return refused(row.state);
    if ((await this.requeue(workspaceId, seq)) === 0) {
      // Another retry (or a worker) moved it meanwhile.
      const now = await this.find(workspaceId, seq);
      return now ? refused(now.state) : { missing: `no delivery #${seq} in workspace "${workspaceId}"` };
    }
    return { state: 'pending' };
  }

  /** A page of a workspace's deliveries, newest first, without bodies: those of `state` (any), older than seq `before`. */
  list(
    workspaceId: string,
    options: { state?: InboxState; limit: number; before?: number },
  ): Promise<
    Pick<
      InboxRow,
      'seq' | 'resource' | 'action' | 'state' | 'attempts' | 'last_error' | 'received_at' | 'processed_at'
    >[]
  > {
    return this.db.all(
      this.db.qb
        .selectFrom('inbox')
        .select(['seq', 'resource', 'action', 'state', 'attempts', 'last_error', 'received_at', 'processed_at'])
        .where('workspace_id', '=', workspaceId)
        .$if(options.state !== undefined, (qb) => qb.where('state', '=', options.state!))
        .$if(options.before !== undefined, (qb) => qb.where('seq', '<', options.before!))
        .orderBy('seq', 'desc')
        .limit(options.limit),
    );
  }

  /**
   * Deliveries received, and processed, per minute since `since` (ISO): only the minutes with any,
   * oldest first. Each count is read from an index by time alone (inbox_by_received, inbox_by_processed).
   */
  async perMinute(workspaceId: string, since: string): Promise<{ at: string; received: number; processed: number }[]> {
    const minute = (column: 'received_at' | 'processed_at') => sql<string>`substr(${sql.ref(column)}, 1, 16)`;
    const [received, processed] = await Promise.all([
      this.db.all(
        this.db.qb
          .selectFrom('inbox')
          .select([minute('received_at').as('minute'), (eb) => eb.fn.countAll<number>().as('n')])
          .where('workspace_id', '=', workspaceId)
          .where('received_at', '>=', since)
          .groupBy(minute('received_at')),
      ),
      this.db.all(
        this.db.qb
          .selectFrom('inbox')
          .select([minute('processed_at').as('minute'), (eb) => eb.fn.countAll<number>().as('n')])
          .where('workspace_id', '=', workspaceId)
          .where('processed_at', '>=', since)
          .where('state', '=', 'processed')
          .groupBy(minute('processed_at')),
      ),
    ]);
    const buckets = new Map<string, { at: string; received: number; processed: number }>();
    const bucket = (m: string) => {
      if (!buckets.has(m)) buckets.set(m, { at: `${m}:00.000Z`, received: 0, processed: 0 });
      return buckets.get(m)!;
    };
    for (const r of received) bucket(r.minute).received = Number(r.n);
    for (const r of processed) bucket(r.minute).processed = Number(r.n);
    return [...buckets.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /** Deliveries processed (into memory) since each of `times` (ISO), from the index by processing time. */
  async processedSince(workspaceId: string, times: readonly string[]): Promise<number[]> {
    const earliest = [...times].sort()[0];
    const row = await this.db.get(
      this.db.qb
        .selectFrom('inbox')
        .select(
          times.map((t, i) =>
            sql<number>`coalesce(sum(CASE WHEN processed_at >= ${t} THEN 1 ELSE 0 END), 0)`.as(`n${i}`),
          ),
        )
        .where('workspace_id', '=', workspaceId)
        .where('processed_at', '>=', earliest)
        .where('state', '=', 'processed'),
    );
    return times.map((_, i) => Number((row as Record<string, unknown> | undefined)?.[`n${i}`] ?? 0));
  }

  async countsByState(workspaceId: string): Promise<Record<InboxState, number>> {
    const counts: Record<InboxState, number> = { pending: 0, processed: 0, skipped: 0, dead: 0, held: 0 };
    const rows = await this.db.all(
      this.db.qb
        .selectFrom('inbox')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('workspace_id', '=', workspaceId)
        .groupBy('state'),
    );
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }

  /** The most recent deliveries that did not become memory (skipped or dead), with why. */
  problems(
    workspaceId: string,
    limit: number,
  ): Promise<
    Pick<
      InboxRow,
      'seq' | 'delivery_id' | 'resource' | 'action' | 'state' | 'attempts' | 'last_error' | 'received_at'
    >[]
  > {
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

  /** What a status answer needs from the inbox: when the last delivery came, and how many are in each state. */
  async activity(workspaceId: string): Promise<{ lastReceivedAt: string | null; counts: Record<InboxState, number> }> {
    return { lastReceivedAt: await this.lastReceivedAt(workspaceId), counts: await this.countsByState(workspaceId) };
  }

  async lastReceivedAt(workspaceId: string): Promise<string | null> {
    const row = await this.db.get(
      this.db.qb
        .selectFrom('inbox')
        .select((eb) => eb.fn.max('received_at').as('at'))
        .where('workspace_id', '=', workspaceId),
    );
    return (row?.at as string | null | undefined) ?? null;
  }
}

/**
 * PostgreSQL: deliveries stored in one statement per thousand (inbox rows, bodies, and the
 * notification when any is new), each routed as `routes` says. On the pool each statement is its own
 * transaction: one round trip where BEGIN, two inserts, NOTIFY and COMMIT took five, and the web
 * role's acknowledgements wait on them. Rows go in key order, so two batches that share a delivery
 * (a retry that reached another process) wait on each other in one order, never in a cycle. A key
 * returned is a delivery stored now, its first copy in the batch; its later copies, and keys not
 * returned (stored before), are duplicates.
 */
async function insertAll(
  db: MemoryDatabase,
  deliveries: Delivery[],
  routes: readonly Route[],
  now: string,
): Promise<EnqueueResult[]> {
  const stored: EnqueueResult[] = [];
  for (let start = 0; start < deliveries.length; start += ROWS_PER_INSERT) {
    const chunk = deliveries.slice(start, start + ROWS_PER_INSERT);
    const input = sql.join(
      chunk.map((d, i) => {
        const route = routes[start + i];
        return sql`(${route.workspaceId}, ${route.state}, ${d.source}, ${d.deliveryId}, ${d.resource}, ${d.action}, ${d.externalId}, ${d.sentAt}, ${d.body}, ${sql.lit(i)})`;
      }),
    );
    const inserted = await db.all<{ seq: string; workspace_id: string; source: string; delivery_id: string }>({
      compile: () =>
        sql`WITH input (workspace_id, state, source, delivery_id, resource, action, external_id, sent_at, body, ord) AS (VALUES ${input}),
stored AS (
  INSERT INTO inbox (workspace_id, delivery_id, source, resource, action, external_id, sent_at, received_at, state, attempts, next_attempt_at)
  SELECT workspace_id, delivery_id, source, resource, action, external_id, sent_at, ${now}, state, 0, ${now}
    FROM input ORDER BY workspace_id, source, delivery_id, ord
  ON CONFLICT DO NOTHING
  RETURNING seq, workspace_id, source, delivery_id
),
bodies AS (
  INSERT INTO inbox_bodies (workspace_id, seq, body)
  SELECT s.workspace_id, s.seq, first.body FROM stored AS s CROSS JOIN LATERAL (
    SELECT i.body FROM input AS i
     WHERE i.workspace_id = s.workspace_id AND i.source = s.source AND i.delivery_id = s.delivery_id
     ORDER BY i.ord LIMIT 1) AS first
),
notified AS (SELECT pg_notify(${INBOX_CHANNEL}, '') FROM (SELECT 1 FROM stored LIMIT 1) AS any_stored)
SELECT s.seq, s.workspace_id, s.source, s.delivery_id FROM stored AS s LEFT JOIN notified ON true`.compile(db.qb),
    });
    const seqs = new Map(
      inserted.map((row) => [deliveryKey(row.workspace_id, row.source, row.delivery_id), Number(row.seq)]),
    );
    chunk.forEach((d, i) => {
      const k = deliveryKey(routes[start + i].workspaceId, d.source, d.deliveryId);
      const seq = seqs.get(k);
      seqs.delete(k);
      stored.push({ accepted: true, duplicate: seq === undefined, seq: seq ?? null });
    });
  }
  return stored;
}
