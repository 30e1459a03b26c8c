import type { Logger } from 'pino';
import type { MemoryRecord } from '../../memory/records.js';
import type { MemoryDatabase } from '../../memory/database.js';
import { storedIssue, storedRelease } from '../../memory/stored.js';
import { applyRecordsFolded } from '../../memory/batch-writer.js';
import { syncIssueTags, type IssueTagsSummary } from './issue-tags.js';
import type { ApiStats, Page } from '../api/client.js';
import {
  getIssueActivities,
  getIssueEvent,
  paginateEnvironments,
  paginateIssues,
  paginateMembers,
  paginateProjects,
  paginateReleaseCommitFiles,
  paginateReleaseCommits,
  paginateReleaseDeploys,
  paginateReleases,
  paginateTeams,
  type SentryReader,
} from '../api/endpoints.js';
import { SentryApiError } from '../api/errors.js';
import {
  mapApiCommit,
  mapApiDeploy,
  mapApiIssue,
  mapApiMember,
  mapApiProject,
  mapApiRelease,
  mapApiTeam,
} from '../mapping/api.js';
import type { Clock } from '../../time.js';
import { isoTime, type Json } from '../mapping/values.js';
import { SENTRY_SOURCE } from '../source.js';
import { CheckpointStore } from './checkpoints.js';

export const SYNC_STREAMS = ['projects', 'teams', 'members', 'environments', 'releases', 'issues'] as const;
export type SyncStream = (typeof SYNC_STREAMS)[number] | 'issues.reconcile';

export interface SyncProgress {
  stream: SyncStream;
  pages: number;
  items: number;
  done: boolean;
}

export interface SyncOptions {
  client: SentryReader & { stats: ApiStats };
  organization: string;
  workspaceId: string;
  connectionId: string;
  db: MemoryDatabase;
  /** ISO time: how far back the first backfill of issues and releases reaches. */
  since: string;
  streams?: readonly SyncStream[];
  /** What "now" is: the end of each incremental window and the reconcile window, and checkpoint times. */
  now: Clock;
  onProgress?: (progress: SyncProgress) => void;
  logger?: Logger;
  /** Requests each issue stream may spend on tag distributions (default DEFAULT_TAG_REQUEST_BUDGET). */
  tagRequestBudget?: number;
}

export interface SyncSummary {
  organization: string;
  streams: Partial<Record<SyncStream, { pages: number; items: number }>>;
  requests: number;
  retries: number;
  rateLimited: number;
  /** Time requests were held back by rate limits (429 pauses and pacing to Sentry's budget); part of `durationMs`. */
  rateLimitWaitMs: number;
  durationMs: number;
  /** Tag distributions: issues whose tags were read, and stale ones left for a later sync by the request budget. */
  issueTags?: IssueTagsSummary;
}

/** Re-read issues active this recently: status and assignment changes do not move `lastSeen`. */
export const DEFAULT_RECONCILE_WINDOW_MS = 14 * 24 * 3600 * 1000;
/** Incremental windows overlap the last one a little, for clock skew and late-arriving events. */
const WINDOW_OVERLAP_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

interface ListState {
  phase: 'running' | 'done';
  completedAt?: string;
}

interface IssueState extends ListState {
  window: { start: string; end: string };
  syncedUntil?: string;
}

/**
 * Backfill and incremental sync. Every page's records and the checkpoint that follows it commit in
 * one transaction, so a sync killed at any point resumes at the first page it had not stored, and
 * merging is idempotent, so a page fetched twice changes nothing.
 */
export class SentrySync {
  private readonly checkpoints: CheckpointStore;
  private readonly summary: SyncSummary;

  constructor(private readonly options: SyncOptions) {
    this.checkpoints = new CheckpointStore(options.db, options.workspaceId, options.connectionId, options.now);
    this.summary = {
      organization: options.organization,
      streams: {},
      requests: 0,
      retries: 0,
      rateLimited: 0,
      rateLimitWaitMs: 0,
      durationMs: 0,
      issueTags: { fetched: 0, skippedForBudget: 0 },
    };
  }

  private isoNow(): string {
    return new Date(this.options.now()).toISOString();
  }

  async run(): Promise<SyncSummary> {
    return this.measure(async () => {
      const streams = this.options.streams ?? SYNC_STREAMS;
      for (const stream of streams) {
        if (stream === 'issues') await this.syncIssues('issues', (state) => this.nextIssueWindow(state));
        else if (stream === 'issues.reconcile') await this.reconcile();
        else if (stream === 'releases') await this.syncReleases();
        else await this.syncList(stream);
      }
    });
  }

  /** Re-lists recently active issues so status and assignment changes reach memory without webhooks. */
  async reconcile(windowMs = DEFAULT_RECONCILE_WINDOW_MS): Promise<SyncSummary> {
    return this.measure(() =>
      this.syncIssues('issues.reconcile', () => {
        const end = this.options.now();
        return { start: new Date(end - windowMs).toISOString(), end: new Date(end).toISOString() };
      }),
    );
  }

  private async measure(work: () => Promise<void>): Promise<SyncSummary> {
    const started = performance.now();
    const before = { ...this.options.client.stats };
    try {
      await work();
    } finally {
      const stats = this.options.client.stats;
      this.summary.requests += stats.requests - before.requests;
      this.summary.retries += stats.retries - before.retries;
      this.summary.rateLimited += stats.rateLimited - before.rateLimited;
      this.summary.rateLimitWaitMs += stats.rateLimitWaitMs - before.rateLimitWaitMs;
      this.summary.durationMs += Math.round(performance.now() - started);
    }
    return this.summary;
  }

  private async commit(
    stream: SyncStream,
    records: MemoryRecord[],
    cursor: string | null,
    state: unknown,
  ): Promise<void> {
    const { db, workspaceId, connectionId } = this.options;
    await db.transaction(async (tx) => {
      await applyRecordsFolded(tx, workspaceId, SENTRY_SOURCE, records);
      await new CheckpointStore(tx, workspaceId, connectionId, this.options.now).save(stream, cursor, state);
    });
  }

  private count(stream: SyncStream, items: number, done: boolean): void {
    const entry = (this.summary.streams[stream] ??= { pages: 0, items: 0 });
    if (!done) {
      entry.pages += 1;
      entry.items += items;
    }
    this.options.onProgress?.({ stream, pages: entry.pages, items: entry.items, done });
  }

  /** Pages from a checkpoint: resume a stream that was cut off, else start at its first page. */
  private async resume<S extends ListState>(stream: SyncStream): Promise<{ cursor: string | null; state: S | null }> {
    const checkpoint = await this.checkpoints.get<S>(stream);
    if (checkpoint?.state?.phase === 'running') return { cursor: checkpoint.cursor, state: checkpoint.state };
    return { cursor: null, state: checkpoint?.state ?? null };
  }

  private async syncList(stream: 'projects' | 'teams' | 'members' | 'environments'): Promise<void> {
    const { client, organization } = this.options;
    const { cursor } = await this.resume<ListState>(stream);
    const pages: AsyncGenerator<Page<Json>> = {
      projects: () => paginateProjects(client, organization, cursor),
      teams: () => paginateTeams(client, organization, cursor),
      members: () => paginateMembers(client, organization, cursor),
      environments: () => paginateEnvironments(client, organization, cursor),
    }[stream]() as AsyncGenerator<Page<Json>>;
    const map = (item: Json): MemoryRecord | null => {
      switch (stream) {
        case 'projects':
          return mapApiProject(item);
        case 'teams':
          return mapApiTeam(item);
        case 'members':
          return mapApiMember(item);
        case 'environments':
          return typeof item.name === 'string' ? { kind: 'environment', name: item.name } : null;
      }
    };
    for await (const page of pages) {
      const records = page.items.map(map).filter((r): r is MemoryRecord => r !== null);
      await this.commit(stream, records, page.nextCursor, { phase: 'running' } satisfies ListState);
      this.count(stream, page.items.length, false);
    }
    await this.commit(stream, [], null, { phase: 'done', completedAt: this.isoNow() } satisfies ListState);
    this.count(stream, 0, true);
  }

  private nextIssueWindow(previous: IssueState | null): IssueState['window'] {
    const end = this.isoNow();
    const start = previous?.syncedUntil
      ? new Date(Date.parse(previous.syncedUntil) - WINDOW_OVERLAP_MS).toISOString()
      : this.options.since;
    return { start, end };
  }

  private async syncIssues(
    stream: 'issues' | 'issues.reconcile',
    windowFor: (previous: IssueState | null) => IssueState['window'],
  ): Promise<void> {
    const { client, organization } = this.options;
    const resumed = await this.resume<IssueState>(stream);
    const resuming = resumed.state?.phase === 'running';
    const window = resuming ? resumed.state!.window : windowFor(resumed.state);
    const syncedUntil = resumed.state?.syncedUntil;
    // `query` is always explicit: Sentry's default hides resolved and archived issues. The issues'
    // event counts come with the list: daily for a window longer than a day, else hourly.
    const groupStatsPeriod = Date.parse(window.end) - Date.parse(window.start) > DAY_MS ? '14d' : '24h';
    const pages = paginateIssues(
      client,
      organization,
      { query: '', sort: 'date', start: window.start, end: window.end, limit: 100, groupStatsPeriod },
      resuming ? resumed.cursor : null,
    );
    // A page's details are fetched while the page before it commits; pages still commit in order, so
    // the checkpoint only ever follows what is stored.
    let committing: Promise<void> = Promise.resolve();
    try {
      for await (const page of pages) {
        const syncedAt = this.isoNow();
        const bundles = await Promise.all(page.items.map((issue) => this.issueBundle(issue as Json)));
        const records = bundles.flatMap(({ issue, event, activities }) =>
          mapApiIssue(issue, syncedAt, { event, activities }),
        );
        await committing;
        committing = this.commit(stream, records, page.nextCursor, {
          phase: 'running',
          window,
          syncedUntil,
        } satisfies IssueState).then(() => this.count(stream, page.items.length, false));
        // Awaited before the next commit or after the last page; a failure meanwhile is not unhandled.
        committing.catch(() => undefined);
      }
    } catch (error) {
      // A page that failed to arrive: the one before it still commits (or fails) before the sync stops.
      await committing.catch(() => undefined);
      throw error;
    }
    await committing;
    await this.commit(stream, [], null, {
      phase: 'done',
      window,
      completedAt: this.isoNow(),
      syncedUntil: window.end,
    } satisfies IssueState);
    this.count(stream, 0, true);
    const tags = await syncIssueTags({ ...this.options, since: window.start, now: () => this.options.now() });
    const counted = (this.summary.issueTags ??= { fetched: 0, skippedForBudget: 0 });
    counted.fetched += tags.fetched;
    counted.skippedForBudget += tags.skippedForBudget;
  }

  /**
   * An issue plus its recommended event and activity — fetched only when the issue is new or changed
   * since memory last saw it, which keeps re-runs and reconciles cheap.
   */
  private async issueBundle(issue: Json): Promise<{ issue: Json; event: Json | null; activities: Json[] | undefined }> {
    const { client, organization, db, workspaceId } = this.options;
    const id = String(issue.id);
    const stored = await storedIssue(db, workspaceId, id);
    const lastSeenChanged = stored?.last_seen !== isoTime(issue.lastSeen);
    const assignee = issue.assignedTo as { id?: unknown } | null | undefined;
    const needEvent = !stored || !stored.events || lastSeenChanged;
    // A new issue's log is read even when the list shows it untouched (unresolved and `new`, unassigned,
    // no comments): Sentry puts an issue archived and unarchived in its first week back to `new`, and an
    // assignment that was undone leaves no trace in the list, so only the log has those transitions.
    const needActivity =
      !stored ||
      lastSeenChanged ||
      stored.status !== issue.status ||
      (stored.substatus ?? null) !== (issue.substatus ?? null) ||
      (stored.assignee_id ?? null) !== (assignee?.id == null ? null : String(assignee.id)) ||
      Number(stored.comments ?? 0) !== Number(issue.numComments ?? 0);
    const [event, activities] = await Promise.all([
      needEvent ? getIssueEvent(client, organization, id, 'recommended').catch(notFoundAs(null)) : null,
      needActivity ? getIssueActivities(client, organization, id).catch(notFoundAs([])) : undefined,
    ]);
    return { issue, event: event as Json | null, activities: activities as Json[] | undefined };
  }

  private async syncReleases(): Promise<void> {
    const { client, organization, db, workspaceId, since } = this.options;
    const { cursor } = await this.resume<ListState>('releases');
    for await (const page of paginateReleases(client, organization, {}, cursor)) {
      const perRelease = await Promise.all(
        (page.items as Json[]).map(async (release) => {
          const record = mapApiRelease(release);
          const stored = await storedRelease(db, workspaceId, record.version);
          const recent = (record.createdAt ?? '') >= since || stored !== undefined;
          const changed =
            !stored ||
            stored.commit_count !== record.commitCount ||
            Number(stored.deploys ?? 0) !== Number(release.deployCount ?? 0);
          if (!recent || !changed) return [record] as MemoryRecord[];
          return [record, ...(await this.releaseDetails(record.version, record.projects))];
        }),
      );
      await this.commit('releases', perRelease.flat(), page.nextCursor, { phase: 'running' } satisfies ListState);
      this.count('releases', page.items.length, false);
    }
    await this.commit('releases', [], null, { phase: 'done', completedAt: this.isoNow() } satisfies ListState);
    this.count('releases', 0, true);
  }

  private async releaseDetails(version: string, projects: string[]): Promise<MemoryRecord[]> {
    const { client, organization } = this.options;
    const [deploys, commits, files] = await Promise.all([
      collect(paginateReleaseDeploys(client, organization, version)),
      collect(paginateReleaseCommits(client, organization, version)),
      collect(paginateReleaseCommitFiles(client, organization, version)),
    ]);
    return [
      ...deploys.flatMap((deploy) => mapApiDeploy(deploy as Json, version, projects)),
      ...commits.map((commit) => mapApiCommit(commit as Json, version, files as Json[])),
    ];
  }
}

async function collect<T>(pages: AsyncGenerator<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page.items);
  return items;
}

/** A sub-resource that is gone (issue deleted, no event kept) is simply absent. */
function notFoundAs<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof SentryApiError && error.kind === 'not_found') return value;
    throw error;
  };
}
