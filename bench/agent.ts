/**
 * Agent read path at scale: a generated memory of 100,000 issues and 1,000,000 observations, queried
 * through the MCP server (in-process client over the SDK's in-memory transport) with a query mix that
 * includes the frequent words agents type. Reports p50/p99 per capability beside a bare FTS5 BM25
 * query over the same data, and resident memory.
 *
 *   npx tsx bench/agent.ts [--issues 100000] [--observations 1000000]
 *
 * The generated database is cached in bench/results/tmp/ (delete it to regenerate).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createMcpServer } from '../src/agent/server.js';
import type { IssueRecord, MemoryRecord, ObservationRecord, ObservationType } from '../src/memory/records.js';
import { MemoryStore } from '../src/memory/store.js';
import { ensureEventCounts } from './event-counts.js';
import { ensureIssueTags, issueTagFootprint } from './issue-tags.js';
import {
  ERROR_TEMPLATES,
  PROJECT_BLUEPRINTS,
  PROPERTY_NAMES,
  COMMENT_TEXTS,
  type Runtime,
} from '../src/sentry/emulator/catalog.js';
import { Prng } from '../src/sentry/emulator/prng.js';

const WS = 'bench';
const DAY = 86_400_000;
const EPOCH = Date.parse('2026-11-20T00:00:00.000Z');
const HISTORY_DAYS = 180;
const PROJECTS = 12;
const RELEASES_PER_PROJECT = 40;

interface Generated {
  issues: { id: string; shortId: string; project: string }[];
  releases: string[];
}

function projectsOf(): { slug: string; runtime: Runtime; files: { path: string; functions: string[] }[] }[] {
  return Array.from({ length: PROJECTS }, (_, i) => {
    const b = PROJECT_BLUEPRINTS[i % PROJECT_BLUEPRINTS.length];
    return {
      slug: i < PROJECT_BLUEPRINTS.length ? b.slug : `${b.slug}-${Math.floor(i / PROJECT_BLUEPRINTS.length) + 1}`,
      runtime: b.runtime,
      files: b.files,
    };
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Releases and deploys per project, then issues (Zipf-ish sizes, skewed recent) with ~10 observations each. */
function* generate(rng: Prng, issueCount: number, observationCount: number, out: Generated): Generator<MemoryRecord[]> {
  const projects = projectsOf();
  const releaseTimes = new Map<string, { version: string; at: number }[]>();
  for (const p of projects) {
    const list = Array.from({ length: RELEASES_PER_PROJECT }, (_, r) => ({
      version: `${p.slug}@1.${r}.0`,
      at: EPOCH - HISTORY_DAYS * DAY + (r * HISTORY_DAYS * DAY) / RELEASES_PER_PROJECT,
    }));
    releaseTimes.set(p.slug, list);
    const batch: MemoryRecord[] = [];
    for (const r of list) {
      out.releases.push(r.version);
      batch.push({
        kind: 'release',
        version: r.version,
        shortVersion: r.version.split('@')[1],
        projects: [p.slug],
        createdAt: iso(r.at),
        releasedAt: iso(r.at + 600_000),
        firstEvent: null,
        lastEvent: null,
        commitCount: 3,
        newIssues: null,
        url: null,
      });
      for (const [k, env] of ['staging', 'production'].entries()) {
        const id = `${r.version}:${env}`;
        const at = r.at + (k + 1) * 3_600_000;
        batch.push({
          kind: 'deploy',
          id,
          release: r.version,
          environment: env,
          name: null,
          url: null,
          startedAt: iso(at - 300_000),
          finishedAt: iso(at),
          projects: [p.slug],
        });
        batch.push({
          kind: 'observation',
          id: `deploy.finished:${id}`,
          type: 'deploy.finished',
          occurredAt: iso(at),
          subject: { type: 'deploy', id },
          issueId: null,
          projectSlug: p.slug,
          release: r.version,
          environment: env,
          summary: `Release ${r.version} deployed to ${env}`,
          data: null,
        });
      }
      for (let c = 0; c < 3; c++) {
        const file = rng.pick(p.files);
        batch.push({
          kind: 'commit',
          id: rng.hex(40),
          release: r.version,
          message: `Fix ${rng.pick(PROPERTY_NAMES)} handling in ${file.path.split('/').pop()}`,
          authorName: 'Jane Developer',
          authorEmail: null,
          repository: `acme/${p.slug}`,
          createdAt: iso(r.at - 3_600_000),
          files: [file.path],
        });
      }
    }
    yield batch;
  }
  const perIssue = observationCount / issueCount;
  let observations = 0;
  let batch: MemoryRecord[] = [];
  const counters = new Map<string, number>();
  for (let n = 0; n < issueCount; n++) {
    const p = projects[Math.min(PROJECTS - 1, Math.floor(Math.pow(rng.next(), 1.5) * PROJECTS))];
    const template = rng.pick(ERROR_TEMPLATES[p.runtime]);
    const value = template.value
      .replaceAll('{prop}', rng.pick(PROPERTY_NAMES))
      .replaceAll('{status}', String(rng.int(400, 504)))
      .replaceAll('{n}', String(rng.int(2, 99)));
    const firstSeen = EPOCH - Math.floor(HISTORY_DAYS * DAY * Math.pow(rng.next(), 1.6));
    const lastSeen = firstSeen + Math.floor((EPOCH - firstSeen) * Math.pow(rng.next(), 0.5));
    const releases = releaseTimes.get(p.slug)!;
    const releaseAt = (t: number) => [...releases].reverse().find((r) => r.at <= t)?.version ?? null;
    const number = (counters.get(p.slug) ?? 0) + 1;
    counters.set(p.slug, number);
    const id = String(7_000_000_000 + n);
    const shortId = `${p.slug.toUpperCase()}-${number.toString(36).toUpperCase()}`;
    const frames = Array.from({ length: rng.int(2, 4) }, () => {
      const file = rng.pick(p.files);
      return {
        filename: file.path,
        function: rng.pick(file.functions),
        module: null,
        lineNo: rng.int(5, 400),
        colNo: null,
        inApp: true,
      };
    });
    const count = Math.max(1, Math.floor(Math.exp(rng.next() * 9)));
    const status = rng.weighted([
      ['unresolved', 60],
      ['resolved', 25],
      ['ignored', 15],
    ] as const);
    const issue: IssueRecord = {
      kind: 'issue',
      id,
      observedAt: iso(EPOCH),
      shortId,
      title: `${template.type}: ${value}`,
      culprit: `${frames[0].function}(${frames[0].filename})`,
      errorType: template.type,
      message: value,
      level: template.level,
      platform: p.runtime,
      category: 'error',
      priority: 'medium',
      permalink: null,
      projectId: p.slug,
      projectSlug: p.slug,
      count,
      userCount: Math.floor(count * rng.next() * 0.6),
      firstSeen: iso(firstSeen),
      lastSeen: iso(lastSeen),
      firstRelease: releaseAt(firstSeen),
      lastRelease: releaseAt(lastSeen),
      topFrames: frames,
      status: { value: { status, substatus: null }, at: iso(lastSeen) },
    };
    out.issues.push({ id, shortId, project: p.slug });
    batch.push(issue);
    batch.push({
      kind: 'event',
      id: rng.hex(32),
      issueId: id,
      projectId: p.slug,
      title: issue.title!,
      message: value,
      culprit: issue.culprit!,
      level: template.level,
      platform: p.runtime,
      release: issue.lastRelease!,
      environment: rng.chance(0.8) ? 'production' : 'staging',
      errorType: template.type,
      errorValue: value,
      occurredAt: iso(lastSeen),
      url: null,
      tags: {},
      topFrames: frames,
      fingerprint: [`hash:${id.padStart(32, '0')}`],
    });
    const target = Math.round(perIssue * (n + 1)) - observations;
    for (let k = 0; k < target; k++) {
      const at = firstSeen + Math.floor((lastSeen - firstSeen) * (k / Math.max(1, target)));
      const type: ObservationType =
        k === 0
          ? 'issue.created'
          : rng.weighted([
              ['comment.created', 2],
              ['issue.assigned', 2],
              ['issue.resolved', 2],
              ['issue.regressed', 1],
              ['alert.triggered', 2],
              ['issue.unresolved', 1],
            ] as const);
      const summary =
        type === 'issue.created'
          ? `New issue ${shortId}: ${issue.title} in ${p.slug}`
          : type === 'comment.created'
            ? `Jane Developer commented on issue ${id}: ${rng.pick(COMMENT_TEXTS)}`
            : type === 'alert.triggered'
              ? `Alert "High priority issues" fired on issue ${id}: ${issue.title}`
              : `${shortId} ${type.split('.')[1]} by Jane Developer`;
      const observation: ObservationRecord = {
        kind: 'observation',
        id: `${type}:${id}:${k}`,
        type,
        occurredAt: iso(at),
        subject: { type: 'issue', id },
        issueId: id,
        projectSlug: p.slug,
        release: type === 'issue.regressed' ? releaseAt(at) : null,
        environment: null,
        summary,
        data: null,
      };
      batch.push(observation);
    }
    observations += target;
    if (batch.length >= 20_000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summarize(samples: number[]): { n: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    n: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1]),
  };
}

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export interface AgentBenchResult {
  issues: number;
  observations: number;
  generateSeconds: number | null;
  capabilities: Record<string, { n: number; p50Ms: number; p99Ms: number; maxMs: number }>;
  bareFts: Record<string, { n: number; p50Ms: number; p99Ms: number; maxMs: number }>;
  rssMB: number;
  /** What tag distributions cost on disk (SQLite pages of their tables and indexes). */
  issueTags: Awaited<ReturnType<typeof issueTagFootprint>>;
  /** The generated memory, for the footprint bench: its file, workspace and a sample to query. */
  database: { path: string; workspaceId: string; issueIds: string[]; releases: string[] };
}

/** `samples` scales how many calls each capability gets (1 = the full bench). */
export async function runAgentBench(
  log: (line: string) => void,
  options: { issues?: number; observations?: number; samples?: number } = {},
): Promise<AgentBenchResult> {
  const issues = options.issues ?? 100_000;
  const observationCount = options.observations ?? 1_000_000;
  const samples = options.samples ?? 1;
  const dir = join(import.meta.dirname, 'results', 'tmp');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `agent-${issues}-${observationCount}.db`);
  const rng = new Prng(42);
  const generated: Generated = { issues: [], releases: [] };
  let generateSeconds: number | null = null;
  if (!existsSync(path)) {
    const building = `${path}.building`;
    rmSync(building, { force: true });
    log(`generating ${issues} issues and ${observationCount} observations into ${building} …`);
    const started = Date.now();
    const store = await MemoryStore.open(building);
    let written = 0;
    for (const batch of generate(rng, issues, observationCount, generated)) {
      await store.apply(WS, 'sentry', batch, { durable: false });
      written += batch.length;
      if (written % 200_000 < batch.length) log(`  ${written} records, ${Math.round((Date.now() - started) / 1000)} s`);
    }
    await store.optimizeSearchIndexes();
    await store.close();
    renameSync(building, path);
    generateSeconds = Math.round((Date.now() - started) / 1000);
  }
  const store = await MemoryStore.open(path);
  const { db } = store;
  const sample = (
    await db.all(
      db.qb
        .selectFrom('issues')
        .select(['id', 'short_id', 'project_slug', 'first_seen', 'last_seen'])
        .where('workspace_id', '=', WS)
        .orderBy(sql`random()`)
        .limit(500),
    )
  ).map((i) => ({
    id: i.id,
    shortId: i.short_id!,
    project: i.project_slug!,
    // Halfway through its life: a time the issue existed, with history on both sides.
    midLife: new Date((Date.parse(i.first_seen!) + Date.parse(i.last_seen!)) / 2).toISOString(),
  }));
  const releases = (
    await db.all(
      db.qb
        .selectFrom('releases')
        .select('version')
        .where('workspace_id', '=', WS)
        .orderBy(sql`random()`)
        .limit(100),
    )
  ).map((r) => r.version);
  const count = async (table: 'issues' | 'observations') =>
    Number((await db.get(db.qb.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'))))!.n);
  const counts = { issues: await count('issues'), observations: await count('observations') };
  log(`memory: ${counts.issues} issues, ${counts.observations} observations`);

  const server = createMcpServer({ db: store.db, workspaceId: WS, now: () => EPOCH });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(clientSide);
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} ${JSON.stringify(args)}: ${JSON.stringify(result.content)}`);
  };

  const frequent = [
    'TypeError',
    'undefined',
    'timeout',
    'failed',
    'error',
    'Cannot read properties of undefined',
    'request failed',
  ];
  const middling = [
    'ECONNREFUSED',
    'deadlock detected',
    'ChunkLoadError',
    'Maximum call stack',
    'stripe connection',
    'insufficient stock',
  ];
  const specific = sample.slice(0, 50).map((s) => `${s.shortId}`);
  const words = (i: number) =>
    i % 3 === 0
      ? frequent[i % frequent.length]
      : i % 3 === 1
        ? middling[i % middling.length]
        : specific[i % specific.length];
  const searchArgs = (i: number): Record<string, unknown> => {
    const base = { query: words(i) };
    switch (i % 4) {
      case 0:
        return base;
      case 1:
        return { ...base, project: sample[i % sample.length].project };
      case 2:
        return { ...base, status: 'unresolved', since: '7d' };
      default:
        return { ...base, environment: 'production', sort: 'events' };
    }
  };

  // The read path is measured on the embedded engine, against bare FTS5 on the same file (a connection of its own).
  const ftsFile = new BetterSqlite3(path, { readonly: true });
  const bare = ftsFile.prepare(
    'SELECT rowid, bm25(search_fts, 5.0, 1.0) AS score FROM search_fts WHERE search_fts MATCH ? ORDER BY score LIMIT 20',
  );
  const ftsQuery = (text: string) => (text.match(/[\p{L}\p{N}_]+/gu) ?? []).map((t) => `"${t}"`).join(' AND ');

  // Warm the page cache and statement caches before measuring.
  for (let i = 0; i < 30; i++) await call('search_memory', searchArgs(i));

  const capabilities: AgentBenchResult['capabilities'] = {};
  const bareFts: AgentBenchResult['bareFts'] = {};
  const measure = async (name: string, n: number, fn: (i: number) => unknown | Promise<unknown>) => {
    const timings: number[] = [];
    for (let i = 0; i < Math.max(20, Math.round(n * samples)); i++) timings.push(await time(() => fn(i)));
    return summarize(timings);
  };
  // The least active project: a filter that keeps few of the many matches of a frequent word.
  const quietProject = (await db.get(
    db.qb
      .selectFrom('issues')
      .select('project_slug')
      .where('workspace_id', '=', WS)
      .groupBy('project_slug')
      .orderBy((eb) => eb.fn.countAll())
      .limit(1),
  ))!.project_slug!;
  const selective = (i: number): Record<string, unknown> => {
    const query = frequent[i % frequent.length];
    switch (i % 4) {
      case 0:
        return { query, project: quietProject };
      case 1:
        return { query, level: 'fatal' };
      case 2:
        return { query, status: 'ignored', project: sample[i % sample.length].project };
      default:
        return { query, since: '24h' };
    }
  };
  capabilities.search = await measure('search', 600, (i) => call('search_memory', searchArgs(i)));
  capabilities['search (frequent words only)'] = await measure('search-frequent', 210, (i) =>
    call('search_memory', { query: frequent[i % frequent.length] }),
  );
  capabilities['search (frequent words, selective filter)'] = await measure('search-selective', 200, (i) =>
    call('search_memory', selective(i)),
  );
  bareFts['same mix, bare FTS5 bm25 over search_fts'] = await measure('bare', 600, (i) => bare.all(ftsQuery(words(i))));
  bareFts['frequent words only, bare FTS5'] = await measure('bare-frequent', 210, (i) =>
    bare.all(ftsQuery(frequent[i % frequent.length])),
  );
  await ensureIssueTags(store, WS, log);
  await ensureEventCounts(store, WS, EPOCH, log);
  // Its default answer: facts, trend, before/after deploys, who is affected.
  capabilities.issue_context = await measure('issue', 500, (i) =>
    call('get_issue_context', { issue: i % 2 ? sample[i].id : sample[i].shortId }),
  );
  capabilities['issue_context asOf (halfway through its life)'] = await measure('issue-as-of', 300, (i) =>
    call('get_issue_context', { issue: sample[i].id, asOf: sample[i].midLife }),
  );
  capabilities.timeline = await measure('timeline', 200, (i) =>
    call(
      'get_timeline',
      i % 2 ? { since: '24h' } : { since: '7d', project: sample[i].project, kinds: ['new', 'regressed', 'deploy'] },
    ),
  );
  capabilities.release_context = await measure('release', 200, (i) =>
    call('get_release_context', { version: releases[i % releases.length] }),
  );
  capabilities.status = await measure('status', 100, () => call('get_memory_status', {}));
  capabilities.issue_tags = await measure('tags', 500, (i) =>
    call('get_issue_tags', { issue: sample[i % sample.length].id }),
  );
  capabilities.related_issues = await measure('related', 500, (i) =>
    call('find_related_issues', { issue: sample[i % sample.length].id }),
  );
  const issueTags = await issueTagFootprint(db);
  log(`tag counts: ${issueTags.bytesPerIssue} bytes per issue, ${issueTags.bytesPerEvent} bytes per event counted`);
  const rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
  await client.close();
  ftsFile.close();
  await store.close();
  return {
    issues: counts.issues,
    observations: counts.observations,
    generateSeconds,
    capabilities,
    bareFts,
    rssMB,
    issueTags,
    database: { path, workspaceId: WS, issueIds: sample.map((s) => s.id), releases },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { issues: { type: 'string' }, observations: { type: 'string' } } });
  const result = await runAgentBench((line) => process.stderr.write(`${line}\n`), {
    issues: values.issues ? Number(values.issues) : undefined,
    observations: values.observations ? Number(values.observations) : undefined,
  });
  console.log(
    `Agent read path: ${result.issues} issues, ${result.observations} observations; RSS ${result.rssMB} MB${result.generateSeconds !== null ? `; generated in ${result.generateSeconds} s` : ''}`,
  );
  console.log('| through MCP (in-process client) | n | p50 | p99 | max |');
  console.log('|---|---|---|---|---|');
  for (const [name, s] of Object.entries(result.capabilities))
    console.log(`| ${name} | ${s.n} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.maxMs} ms |`);
  for (const [name, s] of Object.entries(result.bareFts))
    console.log(`| ${name} | ${s.n} | ${s.p50Ms} ms | ${s.p99Ms} ms | ${s.maxMs} ms |`);
}
