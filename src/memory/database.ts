import { sql, type Compilable, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/**
 * The store's connection, whatever the engine. `qb` builds and types queries for this engine (it never
 * runs them); `all`, `get` and `run` execute one. Everything above the memory depends on this, never
 * on an engine: the SQLite and PostgreSQL implementations differ only where SQL does (schema,
 * full-text search, JSON functions), and those places ask `engine`.
 */
export interface MemoryDatabase {
  readonly engine: Engine;
  readonly qb: Kysely<Database>;
  all<R>(query: Compilable<R>): Promise<R[]>;
  get<R>(query: Compilable<R>): Promise<R | undefined>;
  run(query: Compilable<unknown>): Promise<RunResult>;
  /**
   * Runs `fn` in a write transaction on one connection; `fn` must use the `tx` it is given. Nested
   * calls on `tx` become savepoints, so an inner failure undoes only its own writes. `durable: false`
   * commits without waiting for the disk, for writes that can be derived again from durable rows.
   */
  transaction<T>(fn: (tx: MemoryDatabase) => Promise<T>, options?: { durable?: boolean }): Promise<T>;
  /**
   * Serializes writers of one record across processes until the transaction ends, for the few merges
   * that must read before they write (the row may not exist yet, so a row lock is not enough).
   * SQLite's write transactions are already exclusive; PostgreSQL takes a transaction advisory lock.
   */
  lock(key: string): Promise<void>;
  /**
   * `lock` for many keys at once, without waiting: the keys it now holds (until the transaction
   * ends), leaving out those another transaction holds. SQLite holds them all.
   */
  tryLocks(keys: readonly string[]): Promise<Set<string>>;
  /**
   * Statements sent to the server so far by this database and its transactions: what a batch costs in
   * round trips. SQLite runs statements in the process and counts none.
   */
  statementsSent(): number;
  /**
   * Tells every listener of `channel` — in this process, and on PostgreSQL in every process — that
   * something changed. Inside a transaction it is sent when (and only if) the transaction commits.
   */
  notify(channel: string): Promise<void>;
  /** Calls `listener` on each notification of `channel`; returns how to stop. */
  listen(channel: string, listener: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Where the memory lives: a SQLite file path (or `:memory:`), or a `postgres://` URL. */
export function engineOf(location: string): Engine {
  return /^postgres(ql)?:\/\//i.test(location) ? 'postgres' : 'sqlite';
}

/** The database location as it may be shown or logged: a URL's password is never printed. */
export function describeLocation(location: string): string {
  if (engineOf(location) === 'sqlite') return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/** Whether the JSON array of strings in `column` (a trusted column reference) holds any of `values`. */
export function jsonArrayHasAny(engine: Engine, column: string, values: readonly string[]): RawBuilder<boolean> {
  const list = sql.join(values);
  return engine === 'postgres'
    ? sql<boolean>`${sql.raw(column)} ?| array[${list}]::text[]`
    : sql<boolean>`EXISTS (SELECT 1 FROM json_each(${sql.raw(column)}) p WHERE p.value IN (${list}))`;
}

/**
 * A query compiled once, bound to new values on each call, for hot paths where building and compiling
 * the query per row would cost more than running it. Pass values in the order the query lists them.
 */
export function bindable<R>(query: Compilable<R>): (...values: unknown[]) => Compilable<R> {
  const compiled = query.compile();
  return (...values) => ({ compile: () => ({ ...compiled, parameters: values }) });
}

const preparedByEngine: Record<Engine, Map<string, (...values: unknown[]) => Compilable<unknown>>> = {
  sqlite: new Map(),
  postgres: new Map(),
};

/**
 * `bindable`, kept per engine under `key` (which must name the query's shape: the SQL `build` makes
 * may depend on nothing else), so each shape is built and compiled once per process.
 */
export function prepared<R>(
  db: MemoryDatabase,
  key: string,
  build: (qb: Kysely<Database>) => Compilable<R>,
): (...values: unknown[]) => Compilable<R> {
  const cache = preparedByEngine[db.engine];
  let bind = cache.get(key);
  if (!bind) {
    bind = bindable(build(db.qb));
    cache.set(key, bind);
  }
  return bind as (...values: unknown[]) => Compilable<R>;
}

/** SQLSTATEs of a transaction that lost a race with another (deadlock, serialization, lock not available): try again, it is not a failure. */
const CONTENTION = new Set(['40P01', '40001', '55P03']);

/** Whether `error` is the engine refusing a value (PostgreSQL SQLSTATE class 22: out of range, bad encoding…): retrying cannot help. */
export function isInvalidData(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('22');
}

/** Whether `error` says the transaction collided with a concurrent one rather than failed. */
export function isContention(error: unknown): boolean {
  return typeof error === 'object' && error !== null && CONTENTION.has((error as { code?: unknown }).code as string);
}

/** Why a write failed, in words an operator acts on, whatever the engine. */
export function describeStorageFailure(
  error: unknown,
): 'disk full' | 'database busy' | 'database unreachable' | 'storage error' {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string') return 'storage error';
  if (code === 'SQLITE_FULL' || code === '53100') return 'disk full';
  // SQLite past its busy timeout; PostgreSQL past lock_timeout, a collision, or a cancelled statement.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || CONTENTION.has(code) || code === '57014')
    return 'database busy';
  if (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P03' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT'
  )
    return 'database unreachable';
  return 'storage error';
}

/** Row counts up to this are compiled once per shape (the one-record path's); larger sets are built per call. */
const PREPARED_ROWS = 8;

/**
 * A statement over `rows` (all with the same columns, in the same order) that `build` makes: its only
 * parameters must be the rows' values, in order. Few rows (one record's) use a statement compiled once
 * per shape under `key`, as `prepared` does; many (a batch's) one built for them.
 */
export function rowsStatement<R, Row extends object>(
  db: MemoryDatabase,
  key: string,
  rows: readonly Row[],
  build: (qb: Kysely<Database>, rows: readonly Row[]) => Compilable<R>,
): Compilable<R> {
  if (rows.length > PREPARED_ROWS) return build(db.qb, rows);
  const columns = Object.keys(rows[0]);
  const shape = Object.fromEntries(columns.map((column) => [column, null])) as Row;
  const bind = prepared(db, `${key} (${columns.join()}) ×${rows.length}`, (qb) =>
    build(
      qb,
      rows.map(() => shape),
    ),
  );
  return bind(...rows.flatMap((row) => columns.map((column) => (row as Record<string, unknown>)[column])));
}

/** Inserts `rows` (see rowsStatement) into `table` in one statement; rows whose key is stored already are left as they are. */
export async function insertAllNew<T extends keyof Database>(
  db: MemoryDatabase,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  if (!rows.length) return;
  await db.run(
    rowsStatement(db, `insert new ${table}`, rows, (qb, values) =>
      qb
        .insertInto(table)
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table chosen at run time; callers type the rows
        .values(values as any)
        .onConflict((oc) => oc.doNothing()),
    ),
  );
}

/**
 * `(columns) IN (VALUES …)`: whether a row's composite key is one of `keys`, on either engine (SQLite
 * takes a row value IN a subquery, not IN a list). `columns` are trusted column references.
 */
export function keyIn(columns: readonly string[], keys: readonly (readonly unknown[])[]): RawBuilder<boolean> {
  const rows = keys.map((key) => sql`(${sql.join(key)})`);
  return sql<boolean>`(${sql.join(columns.map((column) => sql.ref(column)))}) IN (VALUES ${sql.join(rows)})`;
}
