import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Compilable } from 'kysely';
import type { MemoryDatabase, RunResult } from '../database.js';
import type { Database } from '../schema.js';
import { runMigrations } from './migrations.js';
import { flushSearchIndexes } from './search-index-migration.js';

type Param = string | number | bigint | Buffer | null;

const CACHE_KIB = 32 * 1024;

/**
 * Writes each parameter as `+?`. better-sqlite3 clears a statement's bindings after every run, and
 * clearing them makes SQLite re-prepare (re-parse and re-plan) any statement whose planning looked at
 * a bound value: whether a LIMIT, or an equality some candidate index leaves uncovered, is a small
 * integer. Most ordered queries were re-prepared on every run (the newest event's frames: 83 µs a
 * call in the drain, 19 µs without; issue and release context 40% faster at p50). A unary plus is
 * the same value, of no affinity like a bare parameter, but the planner does not look through it.
 */
class UnpeekedParameterCompiler extends SqliteQueryCompiler {
  protected override getCurrentParameterPlaceholder(): string {
    return '+?';
  }
}

/**
 * The embedded store's connection. Kysely builds and types the queries; better-sqlite3 runs them
 * synchronously behind the async interface, so a transaction never waits on I/O between its
 * statements and one connection serves the whole process: transactions take turns (a promise
 * chain), and a statement outside them waits for the one in progress.
 */
export class SqliteDatabase implements MemoryDatabase {
  readonly engine = 'sqlite' as const;
  readonly raw: BetterSqlite3.Database;
  readonly qb: Kysely<Database>;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Settles when the transaction in progress (if any) has ended. */
  private turn: Promise<unknown> = Promise.resolve();
  private inTurn = false;
  /** Notifications are in-process: other processes on the same file poll. */
  private readonly channels = new EventEmitter().setMaxListeners(0);
  /** Channels notified inside the transaction in progress, sent when it commits. */
  readonly pendingNotifications = new Set<string>();

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.raw = new BetterSqlite3(path);
    this.raw.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when it returns, so an acknowledged delivery survives power loss.
    this.raw.pragma('synchronous = FULL');
    this.raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // SQLite's 2 MiB default cache turns most B-tree descents into read() calls once the memory
    // outgrows it. 32 MiB, and no memory map: mapped pages count as resident too, and a 256 MiB map
    // took `serve` from 200 to 450 MB at a million observations for a few percent (bench/).
    this.raw.pragma(`cache_size = -${CACHE_KIB}`);
    // Savepoint journals (each delivery is applied in a savepoint) and sorts in memory: in temp files,
    // once past 64 KiB, they cost two write() calls per page touched, about 43 per delivery, and a
    // third of the drain's time (3.1k -> 5.0k deliveries/s). What they hold is one statement's or one
    // savepoint's pages, or one query's sort.
    this.raw.pragma('temp_store = MEMORY');
    runMigrations(this.raw);
    // Documents noted by a migration (or by a write made outside a transaction) are indexed now.
    this.raw.transaction(() => flushSearchIndexes(this.raw))();
    this.optimize();
    this.qb = new Kysely<Database>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new SqliteIntrospector(db),
        createQueryCompiler: () => new UnpeekedParameterCompiler(),
      },
    });
  }

  private prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.raw.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private compiled(query: Compilable<unknown>): { statement: BetterSqlite3.Statement; params: Param[] } {
    const { sql, parameters } = query.compile();
    return { statement: this.prepare(sql), params: parameters.map(toParam) };
  }

  /** Synchronous forms, for the transaction view and for code that owns the connection (migrations, the inbox's group commit). */
  allNow<R>(query: Compilable<R>): R[] {
    const { statement, params } = this.compiled(query);
    return statement.all(...params) as R[];
  }

  getNow<R>(query: Compilable<R>): R | undefined {
    const { statement, params } = this.compiled(query);
    return statement.get(...params) as R | undefined;
  }

  runNow(query: Compilable<unknown>): RunResult {
    const { statement, params } = this.compiled(query);
    return { changes: statement.run(...params).changes };
  }

  /** A statement compiled once from a Kysely query, for hot paths. Bind values in the order the query lists them. */
  statement(query: Compilable<unknown>): BetterSqlite3.Statement {
    return this.prepare(query.compile().sql);
  }

  async all<R>(query: Compilable<R>): Promise<R[]> {
    if (this.inTurn) await this.idle();
    return this.allNow(query);
  }

  async get<R>(query: Compilable<R>): Promise<R | undefined> {
    if (this.inTurn) await this.idle();
    return this.getNow(query);
  }

  async run(query: Compilable<unknown>): Promise<RunResult> {
    if (this.inTurn) await this.idle();
    return this.runNow(query);
  }

  async lock(): Promise<void> {
    // A write transaction on SQLite already excludes every other writer.
  }

  async tryLocks(keys: readonly string[]): Promise<Set<string>> {
    return new Set(keys);
  }

  statementsSent(): number {
    return 0;
  }

  async notify(channel: string): Promise<void> {
    this.channels.emit(channel);
  }

  async listen(channel: string, listener: () => void): Promise<() => Promise<void>> {
    this.channels.on(channel, listener);
    return async () => void this.channels.off(channel, listener);
  }

  /** Waits until no transaction is in progress on this connection. */
  private async idle(): Promise<void> {
    while (this.inTurn) await this.turn.catch(() => undefined);
  }

  transaction<T>(fn: (tx: MemoryDatabase) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    const run = async (): Promise<T> => {
      await this.idle();
      this.inTurn = true;
      const relaxed = options.durable === false;
      // NORMAL: commit without waiting for fsync; WAL keeps the transaction atomic, and the next durable commit persists it.
      if (relaxed) this.raw.pragma('synchronous = NORMAL');
      try {
        this.raw.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(new SqliteTransaction(this, 0));
          flushSearchIndexes(this.raw);
          this.raw.exec('COMMIT');
          for (const channel of this.pendingNotifications) this.channels.emit(channel);
          return result;
        } catch (error) {
          if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
          throw error;
        }
      } finally {
        this.pendingNotifications.clear();
        if (relaxed) this.raw.pragma('synchronous = FULL');
        this.inTurn = false;
      }
    };
    const result = this.turn.catch(() => undefined).then(run);
    this.turn = result;
    return result;
  }

  async close(): Promise<void> {
    await this.idle();
    this.optimize();
    this.raw.close();
  }

  /** Merges each full-text index's segments into one b-tree (FTS5 'optimize'): for after a bulk load. */
  optimizeSearchIndexes(): void {
    this.raw.exec(
      "INSERT INTO agent_fts(agent_fts) VALUES ('optimize'); INSERT INTO search_fts(search_fts) VALUES ('optimize');",
    );
  }

  /**
   * Refreshes the query planner's statistics of tables that grew or shrank tenfold since they were
   * last measured, sampling a bounded number of rows (milliseconds once measured; about 0.4 s the
   * first time at a million observations). Without them SQLite guessed, e.g., a time index over
   * the (type, time) index for a release's regressions: 90 ms instead of 3 ms.
   */
  private optimize(): void {
    this.raw.pragma('analysis_limit = 400');
    this.raw.pragma('optimize = 0x10002');
  }
}

/** The connection as seen inside a transaction: statements run at once; nested transactions are savepoints. */
class SqliteTransaction implements MemoryDatabase {
  readonly engine = 'sqlite' as const;
  readonly qb: Kysely<Database>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly depth: number,
  ) {
    this.qb = db.qb;
  }

  async all<R>(query: Compilable<R>): Promise<R[]> {
    return this.db.allNow(query);
  }

  async get<R>(query: Compilable<R>): Promise<R | undefined> {
    return this.db.getNow(query);
  }

  async run(query: Compilable<unknown>): Promise<RunResult> {
    return this.db.runNow(query);
  }

  async lock(): Promise<void> {}

  async tryLocks(keys: readonly string[]): Promise<Set<string>> {
    return new Set(keys);
  }

  statementsSent(): number {
    return 0;
  }

  async notify(channel: string): Promise<void> {
    this.db.pendingNotifications.add(channel);
  }

  listen(channel: string, listener: () => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, listener);
  }

  async transaction<T>(fn: (tx: MemoryDatabase) => Promise<T>): Promise<T> {
    const name = `sp${this.depth + 1}`;
    this.db.raw.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(new SqliteTransaction(this.db, this.depth + 1));
      this.db.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.db.raw.exec(`ROLLBACK TO ${name}`);
      this.db.raw.exec(`RELEASE ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    throw new Error('close the database, not a transaction');
  }
}

function toParam(value: unknown): Param {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || Buffer.isBuffer(value))
    return value;
  return JSON.stringify(value);
}
