/**
 * Backfill against Sentry's rate limits: the emulator serves N issues across 5 projects with Sentry's
 * default per-caller limits (40 requests a second in fixed 1-second windows, 25 in flight) and 50 ms
 * of latency; a first sync fills an empty memory, a second one right after finds nothing changed.
 * The rate limit is the bottleneck, so the floor of a run is its requests ÷ 40 s, and the figures are
 * how close wall time comes to it, what 429s it met, and requests per issue.
 *
 *   npx tsx bench/backfill.ts [--issues 20000] [--issues-only]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKSPACE } from '../src/config.js';
import { MemoryStore } from '../src/memory/store.js';
import { SentryApiClient } from '../src/sentry/api/client.js';
import { StaticTokenProvider } from '../src/sentry/auth/token-provider.js';
import { startEmulator, type Emulator } from '../src/sentry/emulator/index.js';
import { SentrySync, type SyncStream } from '../src/sentry/sync/sync.js';

const RATE_LIMIT = { perSecond: 40, concurrent: 25 };
const PROJECTS = 5;
const LATENCY_MS = 50;
/** Before the emulator's seeded history begins: the backfill reaches every issue. */
const SINCE = '2000-01-01T00:00:00.000Z';

export interface BackfillRun {
  wallSeconds: number;
  requests: number;
  /** Requests ÷ the allowed rate. Windows are fixed, so a run can beat it by up to a window (a second): small runs show ratios below 1. */
  floorSeconds: number;
  wallToFloor: number;
  /** 429s received; each is waited out and the request sent again. */
  rateLimited: number;
  /** Answers that were neither a success nor a 429, and requests that got no answer. */
  failed: number;
  requestsPerIssue: number;
}

export interface BackfillBenchResult {
  issues: number;
  first: BackfillRun;
  unchanged: BackfillRun;
}

/**
 * `streams` narrows the sync (default: every stream, as a real backfill); a quick run syncs issues alone.
 * `db` is the memory to fill, a postgres:// URL of an empty database (default a new SQLite file).
 */
export async function runBackfillBench(
  log: (line: string) => void,
  options: { issues: number; streams?: readonly SyncStream[]; db?: string },
): Promise<BackfillBenchResult> {
  const { issues, streams } = options;
  const tmp = join(import.meta.dirname, 'results', 'tmp');
  mkdirSync(tmp, { recursive: true });
  const dir = mkdtempSync(join(tmp, 'backfill-'));
  log(`backfill: seeding ${issues.toLocaleString('en-US')} issues across ${PROJECTS} projects …`);
  const emu = await startEmulator({
    seed: 1,
    projects: PROJECTS,
    issues,
    latencyMs: LATENCY_MS,
    rateLimit: RATE_LIMIT,
  });
  const store = await MemoryStore.open(options.db ?? join(dir, 'memory.db'));
  try {
    const first = await syncOnce(emu, store, issues, streams);
    log(`backfill: first sync ${describe(first)}`);
    // Every issue, each with its recommended event: a sync that dropped work would look fast.
    const held = await store.counts(DEFAULT_WORKSPACE);
    if (held.issues !== issues || held.events !== issues)
      throw new Error(
        `backfill: memory holds ${held.issues} issues and ${held.events} events, the emulator ${issues} issues`,
      );
    const unchanged = await syncOnce(emu, store, issues, streams);
    log(`backfill: unchanged re-run ${describe(unchanged)}`);
    return { issues, first, unchanged };
  } finally {
    await store.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One sync with its own client, as `sync` and `serve` make one per run. */
async function syncOnce(
  emu: Emulator,
  store: MemoryStore,
  issues: number,
  streams: readonly SyncStream[] | undefined,
): Promise<BackfillRun> {
  let failed = 0;
  const countingFetch: typeof fetch = async (input, init) => {
    try {
      const response = await fetch(input, init);
      if (!response.ok && response.status !== 429) failed++;
      return response;
    } catch (error) {
      failed++;
      throw error;
    }
  };
  const client = new SentryApiClient({
    baseUrl: emu.url,
    tokens: new StaticTokenProvider(emu.internalToken),
    fetch: countingFetch,
  });
  const sync = new SentrySync({
    client,
    organization: emu.orgSlug,
    workspaceId: DEFAULT_WORKSPACE,
    connectionId: 'bench',
    db: store.db,
    since: SINCE,
    now: emu.now,
    streams,
  });
  const summary = await sync.run();
  const wallSeconds = summary.durationMs / 1000;
  const floorSeconds = summary.requests / RATE_LIMIT.perSecond;
  return {
    wallSeconds: round(wallSeconds),
    requests: summary.requests,
    floorSeconds: round(floorSeconds),
    wallToFloor: wallSeconds / floorSeconds,
    rateLimited: summary.rateLimited,
    failed,
    // Significant digits, not decimals: an unchanged re-run of 20,000 issues costs well under a thousandth of a request each.
    requestsPerIssue: Number((summary.requests / issues).toPrecision(3)),
  };
}

function describe(run: BackfillRun): string {
  return `${run.requests} requests in ${run.wallSeconds} s (floor ${run.floorSeconds} s, ×${round(run.wallToFloor)}), ${run.requestsPerIssue} per issue, ${run.rateLimited} 429s, ${run.failed} failed`;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { issues: { type: 'string', default: '20000' }, 'issues-only': { type: 'boolean', default: false } },
  });
  const streams = values['issues-only'] ? (['issues'] as const) : undefined;
  const result = await runBackfillBench((line) => process.stderr.write(`${line}\n`), {
    issues: Number(values.issues),
    streams,
  });
  console.log(JSON.stringify(result, null, 2));
}
