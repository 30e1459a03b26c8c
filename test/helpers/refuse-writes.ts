import type { CompiledQuery } from 'kysely';
import type { MemoryDatabase } from '../../src/memory/database.js';

/** Runs one DDL statement (the helpers' `execute` is for statements that return rows). */
function ddl(database: MemoryDatabase, text: string) {
  return database.run({
    compile: () => ({ sql: text, parameters: [], query: undefined as never }) as unknown as CompiledQuery,
  });
}

export const REFUSAL = 'comments are read-only during maintenance';

/** Makes every insert into comments fail with REFUSAL: a SQLite trigger, or on PostgreSQL a plpgsql trigger that raises. */
export async function refuseComments(database: MemoryDatabase) {
  if (database.engine === 'sqlite') {
    await ddl(
      database,
      `CREATE TRIGGER refuse_comments BEFORE INSERT ON comments BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
    );
    return;
  }
  await ddl(
    database,
    `CREATE FUNCTION refuse_comments() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${REFUSAL}'; END $$`,
  );
  await ddl(
    database,
    'CREATE TRIGGER refuse_comments BEFORE INSERT ON comments FOR EACH ROW EXECUTE FUNCTION refuse_comments()',
  );
}

export async function allowComments(database: MemoryDatabase) {
  if (database.engine === 'sqlite') {
    await ddl(database, 'DROP TRIGGER refuse_comments');
    return;
  }
  await ddl(database, 'DROP TRIGGER refuse_comments ON comments');
  await ddl(database, 'DROP FUNCTION refuse_comments()');
}
