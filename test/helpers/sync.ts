import type Database from 'better-sqlite3';
import { expect } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryStore } from '../../src/memory/store.js';
import { SentryApiClient } from '../../src/sentry/api/client.js';
import type { TokenProvider } from '../../src/sentry/auth/token-provider.js';
import { StaticTokenProvider } from '../../src/sentry/auth/token-provider.js';
import type { Emulator } from '../../src/sentry/emulator/index.js';
import { SentrySync, type SyncOptions } from '../../src/sentry/sync/sync.js';

/** Far enough back that every seeded issue and release is in the window. */
export const ALL_HISTORY = '2000-01-01T00:00:00.000Z';

export function syncFor(emu: Emulator, store: MemoryStore, options: Partial<SyncOptions> & { tokens?: TokenProvider } = {}) {
  const client = new SentryApiClient({ baseUrl: emu.url, tokens: options.tokens ?? new StaticTokenProvider(emu.internalToken), baseBackoffMs: 20, maxBackoffMs: 500 });
  return new SentrySync({ client, organization: emu.orgSlug, workspaceId: DEFAULT_WORKSPACE, connectionId: 'test', db: store.db, since: ALL_HISTORY, ...options });
}

/** Asserts memory holds exactly the emulator's organization: every issue with its fields, comments, releases, deploys, commits. */
export function expectMemoryMatches(db: Database.Database, emu: Emulator): void {
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
  const storedIssues = db
    .prepare('SELECT id, short_id, title, status, substatus, count, user_count, first_seen, last_seen, first_release, last_release, assignee_id, assignee_type, project_slug FROM issues ORDER BY id')
    .all();
  expect(storedIssues).toEqual(expectedIssues);

  const expectedComments = data.issues
    .flatMap((i) => i.activity.filter((a) => a.type === 'note').map((a) => ({ id: a.id, issue_id: i.id, text: a.data.text })))
    .sort((a, b) => a.id.localeCompare(b.id));
  expect(db.prepare('SELECT id, issue_id, text FROM comments ORDER BY id').all()).toEqual(expectedComments);

  const latestEventIds = data.issues.map((i) => i.events.filter((e) => e.release).at(-1)?.eventId ?? i.events.at(-1)!.eventId).sort();
  expect(db.prepare('SELECT id FROM events ORDER BY id').pluck().all()).toEqual(latestEventIds);

  expect(db.prepare('SELECT version FROM releases ORDER BY version').pluck().all()).toEqual(data.releases.map((r) => r.version).sort());
  expect(db.prepare('SELECT id, release, environment FROM deploys ORDER BY id').all()).toEqual(
    data.releases.flatMap((r) => r.deploys.map((d) => ({ id: d.id, release: r.version, environment: d.environment }))).sort((a, b) => a.id.localeCompare(b.id)),
  );
  // Sentry's commitfiles name a file's commit only by message and repository: commits of one release
  // that share both also share their files (see mapApiCommit).
  const filesOf = (commits: (typeof data.releases)[number]['commits'], c: (typeof commits)[number]) =>
    JSON.stringify([...new Set(commits.filter((o) => o.message === c.message && o.repository === c.repository).flatMap((o) => o.files.map((f) => f.filename)))].sort());
  const expectedCommits = data.releases
    .flatMap((r) => r.commits.map((c) => ({ id: c.id, release: r.version, files: filesOf(r.commits, c) })))
    .sort((a, b) => `${a.release}/${a.id}`.localeCompare(`${b.release}/${b.id}`));
  expect(db.prepare("SELECT id, release, files FROM commits ORDER BY release || '/' || id").all()).toEqual(expectedCommits);

  expect(db.prepare('SELECT slug FROM projects ORDER BY slug').pluck().all()).toEqual(data.projects.map((p) => p.slug).sort());
  expect(db.prepare('SELECT count(*) FROM teams').pluck().get()).toBe(data.teams.length);
  expect(db.prepare('SELECT id FROM members ORDER BY id').pluck().all()).toEqual(data.members.map((m) => m.userId).sort());
  expect(db.prepare('SELECT name FROM environments ORDER BY name').pluck().all()).toEqual(data.environments.map((e) => e.name).sort());
}

/**
 * Memory's content, minus what records when (sync times) or in which order facts arrived (versions
 * carry the delivery order) rather than what (Sentry's facts).
 */
export function memorySnapshot(db: Database.Database): Record<string, unknown[]> {
  const columns = (table: string, exclude: string[]) =>
    (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[]).filter((c) => !exclude.includes(c)).join(', ');
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
  };
  return Object.fromEntries(Object.entries(tables).map(([table, exclude]) => [table, db.prepare(`SELECT ${columns(table, exclude)} FROM ${table} ORDER BY 1, 2`).all()]));
}
