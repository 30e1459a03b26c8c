import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Compilable } from 'kysely';
import { runMigrations } from './migrations.js';
import type { Database } from './schema.js';

type Param = string | number | bigint | Buffer | null;

/**
 * The embedded store's connection. Kysely builds and types the queries; better-sqlite3 runs them
 * synchronously, so a batch of writes is one short transaction with no awaits inside it — which is
 * what makes group commit and fast draining possible on one connection.
 */
export class SqliteDatabase {
  readonly raw: BetterSqlite3.Database;
  readonly qb: Kysely<Database>;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.raw = new BetterSqlite3(path);
    this.raw.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when it returns, so an acknowledged delivery survives power loss.
    this.raw.pragma('synchronous = FULL');
    this.raw.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    runMigrations(this.raw);
    this.qb = new Kysely<Database>({
      dialect: {
        createAdapter: () => new SqliteAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new SqliteIntrospector(db),
        createQueryCompiler: () => new SqliteQueryCompiler(),
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

  /**
   * A statement compiled once from a Kysely query, for hot paths where compiling per call would
   * dominate. Bind values in the order the query lists them.
   */
  statement(query: Compilable<unknown>): BetterSqlite3.Statement {
    return this.prepare(query.compile().sql);
  }

  run(query: Compilable<unknown>): BetterSqlite3.RunResult {
    const { statement, params } = this.compiled(query);
    return statement.run(...params);
  }

  all<R>(query: Compilable<R>): R[] {
    const { statement, params } = this.compiled(query);
    return statement.all(...params) as R[];
  }

  get<R>(query: Compilable<R>): R | undefined {
    const { statement, params } = this.compiled(query);
    return statement.get(...params) as R | undefined;
  }

  /**
   * Runs `fn` in a write transaction (nested calls become savepoints). `durable: false` commits
   * without waiting for fsync (synchronous=NORMAL), for writes that can be derived again from
   * durable rows: WAL keeps them atomic, and the next durable commit persists them too.
   */
  transaction<T>(fn: () => T, options: { durable?: boolean } = {}): T {
    if (options.durable !== false || this.raw.inTransaction) return this.raw.transaction(fn).immediate();
    this.raw.pragma('synchronous = NORMAL');
    try {
      return this.raw.transaction(fn).immediate();
    } finally {
      this.raw.pragma('synchronous = FULL');
    }
  }

  close(): void {
    this.raw.close();
  }
}

function toParam(value: unknown): Param {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || Buffer.isBuffer(value)) return value;
  return JSON.stringify(value);
}
