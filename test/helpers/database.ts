import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Engine, MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';

/**
 * The engine this test run exercises: vitest.config.ts runs the store-touching suite once per engine
 * (project `sqlite`, and project `postgres` when a server answers).
 */
export const TEST_ENGINE: Engine = process.env.SENTRY_MEMORY_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The server the PostgreSQL suite creates its databases on (trust auth, as on development and CI machines). */
export const PG_ADMIN_URL = process.env.SENTRY_MEMORY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Prefix of this run's databases: concurrent runs never share one, and teardown drops only its own. */
export const PG_RUN_PREFIX = `sm_${process.env.SENTRY_MEMORY_TEST_RUN ?? 'adhoc'}_`;

/** Processes started by tests share stored tokens through the database; with PostgreSQL the key must come from the environment. */
export const ENGINE_ENV: Record<string, string> =
  TEST_ENGINE === 'postgres' ? { SENTRY_MEMORY_ENCRYPTION_KEY: randomBytes(32).toString('hex') } : {};

export interface TestDatabase {
  /** What `--db` takes: a SQLite file path, or a postgres:// URL. */
  location: string;
  cleanup(): Promise<void>;
}

let created = 0;

/** A new, empty database on the run's engine, dropped by `cleanup`. */
export async function createTestDatabase(engine: Engine = TEST_ENGINE): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-test-'));
    return { location: join(dir, 'memory.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `${PG_RUN_PREFIX}${process.pid}_${++created}_${randomBytes(3).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    location: url.toString(),
    cleanup: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A store on a new test database; `close` closes it and drops the database. */
export async function openTestStore(): Promise<{ store: MemoryStore; location: string; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const store = await MemoryStore.open(database.location);
  return {
    store,
    location: database.location,
    async close() {
      await store.close();
      await database.cleanup();
    },
  };
}

/**
 * Raw SQL for assertions, written once for both engines: `?` placeholders, portable SQL. Tests use it
 * to look at what the store wrote without going through the code under test.
 */
export function rows<R = Record<string, unknown>>(
  db: MemoryDatabase,
  text: string,
  ...params: unknown[]
): Promise<R[]> {
  return db.all(portable<R>(db, text, params));
}

function portable<R>(db: MemoryDatabase, text: string, params: unknown[]): { compile: () => CompiledQuery<R> } {
  let n = 0;
  const sql = db.engine === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text;
  return { compile: () => ({ sql, parameters: params, query: undefined as never }) as unknown as CompiledQuery<R> };
}

/** The first column of the first row (or undefined). */
export async function scalar<T = unknown>(db: MemoryDatabase, text: string, ...params: unknown[]): Promise<T> {
  const [row] = await rows(db, text, ...params);
  return (row ? Object.values(row)[0] : undefined) as T;
}

/** The first column of every row. */
export async function column<T = unknown>(db: MemoryDatabase, text: string, ...params: unknown[]): Promise<T[]> {
  return (await rows(db, text, ...params)).map((row) => Object.values(row)[0] as T);
}

/** Runs a statement that returns no rows (setup, fault injection). */
export async function execute(db: MemoryDatabase, text: string, ...params: unknown[]): Promise<void> {
  await db.run(portable(db, text, params));
}
