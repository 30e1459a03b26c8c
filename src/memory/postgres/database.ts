import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type Compilable,
} from 'kysely';
import pg from 'pg';
import { describeLocation, type MemoryDatabase, type RunResult } from '../database.js';
import type { Database } from '../schema.js';
import { migratePostgres } from './migrations.js';

const INT8 = 20;
const NUMERIC = 1700;
const JSONB = 3802;

/**
 * The same shapes as on SQLite: bigint counts as numbers (the memory's counters stay far below 2^53),
 * JSON columns as compact JSON text, as the rest of the code stores and reads them.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    if (oid === JSONB) return (value: string) => JSON.stringify(JSON.parse(value));
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function compiler(): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/** Statements on a connection: the pool (each statement its own transaction) or one transaction's client. */
abstract class PostgresStatements {
  readonly engine = 'postgres' as const;
  abstract readonly qb: Kysely<Database>;
  protected abstract readonly client: Queryable;
  /** Shared by a database and its transactions: see statementsSent. */
  protected abstract readonly sent: { statements: number };

  /** Every statement goes through here, to be counted. */
  protected send(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    this.sent.statements += 1;
    return this.client.query(text, values);
  }

  statementsSent(): number {
    return this.sent.statements;
  }

  private async execute(query: Compilable<unknown>): Promise<pg.QueryResult> {
    const { sql, parameters } = query.compile();
    return this.send(sql, parameters.map(storable));
  }

  async all<R>(query: Compilable<R>): Promise<R[]> {
    return (await this.execute(query)).rows as R[];
  }

  async get<R>(query: Compilable<R>): Promise<R | undefined> {
    return (await this.execute(query)).rows[0] as R | undefined;
  }

  async run(query: Compilable<unknown>): Promise<RunResult> {
    return { changes: (await this.execute(query)).rowCount ?? 0 };
  }

  async notify(channel: string): Promise<void> {
    // Inside a transaction PostgreSQL delivers it at commit, and drops it on rollback.
    await this.send('SELECT pg_notify($1, $2)', [channel, '']);
  }
}

/**
 * PostgreSQL text cannot hold U+0000, which SQLite and Sentry payloads allow: it becomes U+FFFD (the
 * replacement character) rather than failing the write or the query. (JSON columns get the same
 * treatment from the writer, for both engines: see writer.ts toJson.)
 */
function storable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(storable);
  return typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
}

/**
 * The memory on PostgreSQL: a connection pool shared by any number of processes' worth of work.
 * Kysely builds the queries, `pg` runs them. Migrations run on open, under an advisory lock.
 */
export class PostgresDatabase extends PostgresStatements implements MemoryDatabase {
  readonly qb = compiler();
  private listener: pg.Client | null = null;
  private readonly listeners = new Map<string, Set<() => void>>();
  protected readonly sent = { statements: 0 };

  private constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    super();
  }

  protected get client(): Queryable {
    return this.pool;
  }

  /**
   * `lockTimeoutMs` bounds how long a statement waits for a lock another process holds (PostgreSQL's
   * lock_timeout, the counterpart of SQLite's busy timeout): the webhook route then answers 503 rather
   * than leave Sentry waiting, and a worker retries the delivery later.
   */
  static async open(
    url: string,
    options: { poolSize?: number; lockTimeoutMs?: number } = {},
  ): Promise<PostgresDatabase> {
    const lockTimeout = Math.trunc(options.lockTimeoutMs ?? 5000);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      types,
      application_name: 'sentry-memory',
      options: `-c lock_timeout=${lockTimeout}`,
    });
    // An idle client that loses its connection (server restart) must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migratePostgres(client);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw new Error(`cannot open the memory on PostgreSQL at ${describeLocation(url)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new PostgresDatabase(pool, url);
  }

  async lock(): Promise<void> {
    throw new Error('lock() holds until the transaction ends: call it on a transaction');
  }

  async tryLocks(): Promise<Set<string>> {
    throw new Error('tryLocks() holds until the transaction ends: call it on a transaction');
  }

  async listen(channel: string, listener: () => void): Promise<() => Promise<void>> {
    if (!this.listener) {
      // One dedicated connection for every channel: LISTEN holds it for as long as we listen.
      const client = new pg.Client({ connectionString: this.url, application_name: 'sentry-memory listener' });
      client.on('error', () => undefined);
      client.on('notification', (message) => {
        for (const fn of this.listeners.get(message.channel) ?? []) fn();
      });
      await client.connect();
      this.listener = client;
    }
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.listener.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    }
    set.add(listener);
    return async () => {
      set.delete(listener);
    };
  }

  async transaction<T>(fn: (tx: MemoryDatabase) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      const tx = new PostgresTransaction(client, this.qb, 0, this.sent);
      // Not durable: commit without waiting for the WAL flush; a crash can lose it, never half of it.
      // One round trip for both (a simple query may hold several statements).
      await tx.control(options.durable === false ? 'BEGIN; SET LOCAL synchronous_commit TO OFF' : 'BEGIN');
      try {
        const result = await fn(tx);
        await tx.control('COMMIT');
        return result;
      } catch (error) {
        await tx.control('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
    await this.pool.end();
  }
}

/** Per connection: the last statement asked of it (see PostgresTransaction.send). */
const inFlight = new WeakMap<pg.PoolClient, Promise<unknown>>();

class PostgresTransaction extends PostgresStatements implements MemoryDatabase {
  constructor(
    protected readonly client: pg.PoolClient,
    readonly qb: Kysely<Database>,
    private readonly depth: number,
    protected readonly sent: { statements: number },
  ) {
    super();
  }

  /**
   * One statement at a time on the transaction's connection, in the order they were asked for:
   * callers may start several at once (Promise.all), which `pg` would otherwise queue itself, a use
   * it deprecates.
   */
  protected override send(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    const run = (inFlight.get(this.client) ?? Promise.resolve()).then(() => super.send(text, values));
    inFlight.set(
      this.client,
      run.catch(() => undefined),
    );
    return run;
  }

  /** Transaction control (BEGIN, COMMIT, ROLLBACK, savepoints), counted like any statement. */
  async control(text: string): Promise<void> {
    await this.send(text);
  }

  async lock(key: string): Promise<void> {
    await this.send('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }

  async tryLocks(keys: readonly string[]): Promise<Set<string>> {
    if (!keys.length) return new Set();
    // The keys are sent storable (a NUL replaced) and come back so: the answer names the key asked for.
    const held = await this.send(
      'SELECT i FROM unnest($1::text[]) WITH ORDINALITY AS k(key, i) WHERE pg_try_advisory_xact_lock(hashtextextended(key, 0))',
      [keys.map(storable)],
    );
    return new Set((held.rows as { i: string }[]).map((row) => keys[Number(row.i) - 1]));
  }

  listen(): Promise<() => Promise<void>> {
    throw new Error('listen on the database, not on a transaction');
  }

  async transaction<T>(fn: (tx: MemoryDatabase) => Promise<T>): Promise<T> {
    const name = `sp${this.depth + 1}`;
    await this.control(`SAVEPOINT ${name}`);
    try {
      const result = await fn(new PostgresTransaction(this.client, this.qb, this.depth + 1, this.sent));
      await this.control(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      // One round trip: the savepoint is undone and released.
      await this.control(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    throw new Error('close the database, not a transaction');
  }
}
