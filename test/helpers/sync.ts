import { expect } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryDatabase } from '../../src/memory/database.js';
import { MemoryStore } from '../../src/memory/store.js';
import { SentryApiClient } from '../../src/sentry/api/client.js';
import type { TokenProvider } from '../../src/sentry/auth/token-provider.js';
import { StaticTokenProvider } from '../../src/sentry/auth/token-provider.js';
import type { Emulator } from '../../src/sentry/emulator/index.js';
import { SentrySync, type SyncOptions } from '../../src/sentry/sync/sync.js';
import { column, rows, scalar } from './database.js';

/** Far enough back that every seeded issue and release is in the window. */
export const ALL_HISTORY = '2000-01-01T00:00:00.000Z';

export function syncFor(
  emu: Emulator,
  store: MemoryStore,
  options: Partial<SyncOptions> & { tokens?: TokenProvider; maxRetries?: number } = {},
) {
  const client = new SentryApiClient({
    baseUrl: emu.url,
    tokens: options.tokens ?? new StaticTokenProvider(emu.internalToken),
    baseBackoffMs: 20,
    maxBackoffMs: 500,
    maxRetries: options.maxRetries,
  });
  return new SentrySync({
    client,
    organization: emu.orgSlug,
    workspaceId: DEFAULT_WORKSPACE,
    connectionId: 'test',
    db: store.db,
    since: ALL_HISTORY,
    now: emu.now,
    ...options,
  });
}

/** Asserts memory holds exactly the emulator's organization: every issue with its fields, comments, releases, deploys, commits. */
export async function expectMemoryMatches(db: MemoryDatabase, emu: Emulator): Promise<void> {
  const data = emu.data;
  const projectSlug = new Map(data.projects.map((p) => [p.id, p.slug]));
  const expectedIssues = data.issues
    .map((i) => ({
      id: i.id,
      short_id: i.shortId,
      title: i.title,
      status: i.status,
      substatus: i.substatus,
      count: i.count,
      user_count: i.userCount,
      first_seen: new Date(i.firstSeen).toISOString(),
      last_seen: new Date(i.lastSeen).toISOString(),
      first_release: i.firstRelease,
      last_release: i.lastRelease,
      assignee_id: i.assignedTo?.id ?? null,
      assignee_type: i.assignedTo?.type ?? null,
      project_slug: projectSlug.get(i.projectId),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const storedIssues = await rows(
    db,
    'SELECT id, short_id, title, status, substatus, count, user_count, first_seen, last_seen, first_release, last_release, assignee_id, assignee_type, project_slug FROM issues ORDER BY id',
  );
  expect(storedIssues).toEqual(expectedIssues);

  const expectedComments = data.issues
    .flatMap((i) =>
      i.activity.filter((a) => a.type === 'note').map((a) => ({ id: a.id, issue_id: i.id, text: a.data.text })),
    )
    .sort((a, b) => a.id.localeCompare(b.id));
  expect(await rows(db, 'SELECT id, issue_id, text FROM comments ORDER BY id')).toEqual(expectedComments);

  const latestEventIds = data.issues
    .map((i) => i.events.filter((e) => e.release).at(-1)?.eventId ?? i.events.at(-1)!.eventId)
    .sort();
  expect(await column(db, 'SELECT id FROM events ORDER BY id')).toEqual(latestEventIds);

  expect(await column(db, 'SELECT version FROM releases ORDER BY version')).toEqual(
    data.releases.map((r) => r.version).sort(),
  );
  expect(await rows(db, 'SELECT id, release, environment FROM deploys ORDER BY id')).toEqual(
    data.releases
      .flatMap((r) => r.deploys.map((d) => ({ id: d.id, release: r.version, environment: d.environment })))
      .sort((a, b) => a.id.localeCompare(b.id)),
  );
  // Sentry's commitfiles name a file's commit only by message and repository: commits of one release
  // that share both also share their files (see mapApiCommit).
  const filesOf = (commits: (typeof data.releases)[number]['commits'], c: (typeof commits)[number]) =>
    [
      ...new Set(
        commits
          .filter((o) => o.message === c.message && o.repository === c.repository)
          .flatMap((o) => o.files.map((f) => f.filename)),
      ),
    ].sort();
  const expectedCommits = data.releases
    .flatMap((r) => r.commits.map((c) => ({ id: c.id, release: r.version, files: filesOf(r.commits, c) })))
    .sort((a, b) => `${a.release}/${a.id}`.localeCompare(`${b.release}/${b.id}`));
  const storedCommits = await rows<{ id: string; release: string; files: string }>(
    db,
    "SELECT id, release, files FROM commits ORDER BY release || '/' || id",
  );
  expect(storedCommits.map((c) => ({ ...c, files: JSON.parse(c.files) as string[] }))).toEqual(expectedCommits);

  expect(await column(db, 'SELECT slug FROM projects ORDER BY slug')).toEqual(data.projects.map((p) => p.slug).sort());
  expect(Number(await scalar(db, 'SELECT count(*) FROM teams'))).toBe(data.teams.length);
  expect(await column(db, 'SELECT id FROM members ORDER BY id')).toEqual(data.members.map((m) => m.userId).sort());
  expect(await column(db, 'SELECT name FROM environments ORDER BY name')).toEqual(
    data.environments.map((e) => e.name).sort(),
  );
}

/**
 * Asserts the memory at `location` equals what one uninterrupted sync of the emulator makes in a clean
 * database at `cleanLocation`, and matches the emulator's organization.
 */
export async function expectSameAsCleanSync(emu: Emulator, cleanLocation: string, location: string): Promise<void> {
  const reference = await MemoryStore.open(cleanLocation);
  await syncFor(emu, reference).run();
  const expected = await memorySnapshot(reference.db);
  await reference.close();
  const store = await MemoryStore.open(location);
  try {
    expect(await memorySnapshot(store.db)).toEqual(expected);
    await expectMemoryMatches(store.db, emu);
  } finally {
    await store.close();
  }
}

/** JSON text with its keys sorted: jsonb (PostgreSQL) and JSON text (SQLite) order keys differently. */
function canonicalJson(value: unknown): unknown {
  if (typeof value !== 'string' || !/^[[{]/.test(value)) return value;
  try {
    return JSON.stringify(sortKeys(JSON.parse(value)));
  } catch {
    return value;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

/**
 * Memory's content, minus what records when (sync times) or in which order facts arrived (versions
 * carry the delivery order) rather than what (Sentry's facts). The same on both engines, so a
 * PostgreSQL memory can be compared with a SQLite one.
 */
export async function memorySnapshot(
  db: MemoryDatabase,
  options: { history?: boolean } = {},
): Promise<Record<string, unknown[]>> {
  const tables: Record<string, string[]> = {
    issues: ['snapshot_at', 'status_version', 'assignee_version'],
    events: [],
    comments: ['version'],
    alerts: ['state_version'],
    insights: ['state_version'],
    observations: [],
    releases: [],
    deploys: [],
    commits: [],
    projects: [],
    teams: [],
    members: [],
    environments: [],
    // What counting and indexing derive from the facts: a fact applied twice would show here.
    issue_event_counts: [],
    issue_count_snapshots: ['taken_at'],
    issue_tag_keys: ['synced_at'],
    issue_tag_values: [],
    issue_signatures: [],
    issue_facets: [],
    // Row ids number the documents in indexing order; tsv (PostgreSQL's index of title and body) has no SQLite twin.
    search_docs: ['doc_id', 'tsv'],
    agent_docs: ['row_id', 'tsv'],
    // Which observations of a value the history stores depends on arrival order, by design (history.ts:
    // a late, older fact is kept at its own time; in order, a re-observation adds nothing): for
    // comparisons of memories that received the same deliveries in the same order.
    ...(options.history ? { issue_history: ['version'] } : {}),
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [table, exclude] of Object.entries(tables)) {
    const kept = (await rows(db, `SELECT * FROM ${table}`)).map((row) =>
      Object.fromEntries(
        Object.entries(row)
          .filter(([column]) => !exclude.includes(column))
          .map(([column, value]) => [
            column,
            table === 'agent_docs' && column === 'occurred_at' ? hourOf(value) : canonicalJson(value),
          ]),
      ),
    );
    // Sorted here, not in SQL, so both engines give one order whatever their collations.
    snapshot[table] = kept
      .map((row) => [JSON.stringify(row), row] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, row]) => row);
  }
  return snapshot;
}

/**
 * An issue document's activity time is kept to the hour (re-indexed only when it moves to a new one:
 * see the agent index triggers), so within the hour it depends on which update came last.
 */
function hourOf(value: unknown): unknown {
  return typeof value === 'string' ? value.slice(0, 13) : value;
}
