import pg from 'pg';

/** Drops whatever databases this run left behind (a test that failed before its cleanup). */
export async function teardown(): Promise<void> {
  const run = process.env.SENTRY_MEMORY_TEST_RUN;
  if (!run) return;
  const client = new pg.Client({ connectionString: process.env.SENTRY_MEMORY_TEST_PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `sm_${run}_%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
