/**
 * The dashboard's events chart at scale: 30 days × 20 projects by the hour, over a memory of 100,000
 * issues whose hourly counts fill the 31 days the memory keeps (each issue active in a run of hours
 * of its own, a few issues in most hours, as Zipf-ish error traffic is). Reports the chart's p50/p99
 * (and by the day, and a week by the hour) and the count rows it sums, on SQLite (and PostgreSQL with
 * --pg <url> of an empty database).
 *
 *   npx tsx bench/dashboard.ts [--issues 100000] [--pg postgres://…/db]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { MemoryDatabase } from '../src/memory/database.js';
import { eventChart } from '../src/memory/dashboard/event-chart.js';
import { MemoryStore } from '../src/memory/store.js';
import { Prng } from '../src/sentry/emulator/prng.js';

const WS = 'bench';
const HOUR = 3_600_000;
const EPOCH = Date.parse('2026-11-20T00:00:00.000Z');
const PROJECTS = 20;
const HOURS = 31 * 24;

async function fill(db: MemoryDatabase, issues: number): Promise<number> {
  const rng = new Prng(23);
  let rows = 0;
  let batch: ReturnType<typeof sql>[] = [];
  // The issues themselves: the chart's projects are those its issues name.
  let issueRows: ReturnType<typeof sql>[] = [];
  const flushIssues = async () => {
    if (!issueRows.length) return;
    const insert = sql`INSERT INTO issues (workspace_id, id, project_slug, title, snapshot_at) VALUES ${sql.join(issueRows)}`;
    await db.run({ compile: () => insert.compile(db.qb) });
    issueRows = [];
  };
  const flush = async () => {
    if (!batch.length) return;
    const insert = sql`INSERT INTO issue_event_counts (workspace_id, issue_id, resolution, start, project, source, received) VALUES ${sql.join(batch)}`;
    await db.run({ compile: () => insert.compile(db.qb) });
    batch = [];
  };
  for (let i = 0; i < issues; i++) {
    const project = `project-${i % PROJECTS}`;
    // Most issues live a few hours; a few are busy for weeks.
    const span = Math.min(HOURS, 1 + Math.floor(Math.pow(rng.next(), 6) * HOURS));
    const first = rng.int(0, HOURS - span);
    const days = new Map<string, number>();
    for (let h = first; h < first + span; h++) {
      if (span > 24 && !rng.chance(0.6)) continue;
      const at = EPOCH - (HOURS - h) * HOUR;
      const start = new Date(at).toISOString();
      const count = rng.int(1, 40);
      batch.push(sql`(${WS}, ${String(i)}, 'hour', ${start}, ${project}, ${count}, 0)`);
      const day = `${start.slice(0, 10)}T00:00:00.000Z`;
      days.set(day, (days.get(day) ?? 0) + count);
      rows++;
      if (batch.length === 500) await flush();
    }
    for (const [day, count] of days) {
      batch.push(sql`(${WS}, ${String(i)}, 'day', ${day}, ${project}, ${count}, 0)`);
      if (batch.length === 500) await flush();
    }
    issueRows.push(sql`(${WS}, ${String(i)}, ${project}, ${`Error ${i}`}, ${new Date(EPOCH).toISOString()})`);
    if (issueRows.length === 500) await flushIssues();
  }
  await flush();
  await flushIssues();
  return rows;
}

async function measure(label: string, location: string, issues: number): Promise<void> {
  const store = await MemoryStore.open(location);
  try {
    const started = Date.now();
    // One transaction, not durable: a bench memory, written as fast as the engine can.
    const rows = await store.db.transaction((tx) => fill(tx, issues), { durable: false });
    console.log(
      `${label}: ${issues} issues, ${rows} hourly count rows in ${Math.round((Date.now() - started) / 1000)} s`,
    );
    const run = async (what: string, days: number, interval: 'hour' | 'day') => {
      const query = {
        since: new Date(EPOCH - days * 24 * HOUR).toISOString(),
        until: new Date(EPOCH).toISOString(),
        interval,
      };
      const times: number[] = [];
      let cells = 0;
      for (let i = 0; i < 11; i++) {
        const t = performance.now();
        const chart = await eventChart(store.db, WS, query);
        times.push(performance.now() - t);
        cells = chart.series.length * chart.buckets.length;
      }
      times.sort((a, b) => a - b);
      console.log(`${label}: ${what} (${cells} points): p50 ${times[5].toFixed(1)} ms, max ${times[10].toFixed(1)} ms`);
    };
    await run(`30 days × ${PROJECTS} projects by the day`, 30, 'day');
    await run(`7 days × ${PROJECTS} projects by the hour`, 7, 'hour');
    await run(`30 days × ${PROJECTS} projects by the hour`, 30, 'hour');
  } finally {
    await store.close();
  }
}

const { values } = parseArgs({ options: { issues: { type: 'string' }, pg: { type: 'string' } } });
const issues = values.issues ? Number(values.issues) : 100_000;
const dir = mkdtempSync(join(tmpdir(), 'sm-dashboard-bench-'));
try {
  await measure('sqlite', join(dir, 'memory.db'), issues);
  if (values.pg) await measure('postgres', values.pg, issues);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
