import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The suite runs on embedded SQLite always, and the store-touching part of it again on PostgreSQL
 * when a server answers at SENTRY_MEMORY_TEST_PG_URL (default: the local one, trust auth). Without
 * one, the PostgreSQL project is left out and says so; SENTRY_MEMORY_REQUIRE_POSTGRES=1 (CI) fails instead.
 */
const pgUrl = process.env.SENTRY_MEMORY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const probe = spawnSync(
  process.execPath,
  [
    '-e',
    'const pg=require("pg");const c=new pg.Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});c.connect().then(()=>c.end()).catch(e=>{console.error(e.message);process.exit(1)})',
    pgUrl,
  ],
  { encoding: 'utf8', timeout: 10_000 },
);
const postgres = probe.status === 0;
if (!postgres) {
  const why = (probe.stderr || probe.error?.message || 'no answer').trim();
  const message = `PostgreSQL suite SKIPPED: no server at ${pgUrl} (${why}). Start PostgreSQL (trust auth) or set SENTRY_MEMORY_TEST_PG_URL, then run npm test again.`;
  if (process.env.SENTRY_MEMORY_REQUIRE_POSTGRES === '1') throw new Error(message);
  console.warn(`\n${message}\n`);
}

/** Tests that read or write the store: these run once per engine. */
const storeTests = [
  'test/{agent,e2e,memory,queue,scale-out,server,sync,tenants,webhooks}/**/*.test.ts',
  'test/security/{workspaces,secrets,webhook-route.property,query-input.property}.test.ts',
  'test/auth/{installation,oauth}.test.ts',
  'test/cli.test.ts',
  'test/library.test.ts',
];

// One id per run, in the name of every database it creates (and, for teardown, in this process too).
const run = (process.env.SENTRY_MEMORY_TEST_RUN ??= randomBytes(4).toString('hex'));
process.env.SENTRY_MEMORY_TEST_PG_URL = pgUrl;

export default defineConfig({
  // examples/ import the package by name, as its users do: in tests that name is the source.
  resolve: { alias: { 'sentry-memory': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/helpers/shift-clock.ts'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: storeTests,
                exclude: ['test/memory/postgres-migrations.test.ts'],
                env: {
                  SENTRY_MEMORY_TEST_ENGINE: 'postgres',
                  SENTRY_MEMORY_TEST_RUN: run,
                  SENTRY_MEMORY_TEST_PG_URL: pgUrl,
                },
                globalSetup: ['test/helpers/postgres-teardown.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
