import { engineOf, type MemoryDatabase } from './database.js';
import { NotInMemoryError } from './context/errors.js';
import { getIssueFacts, getIssueTimeline, type IssueFacts } from './context/issue-context.js';
import { getIssueTags, type IssueTags } from './context/issue-tags.js';
import { getRelatedIssues, type RelatedIssues } from './context/related-issues.js';
import type { MemoryRecord } from './records.js';
import { searchMemory, type SearchQuery, type SearchResult } from './context/search.js';
import { PostgresDatabase } from './postgres/database.js';
import { SqliteDatabase } from './sqlite/database.js';
import { countRecords, type RecordCounts } from './stats.js';
import { applyRecords } from './writer.js';

/** One issue for programs: what is stored of it, comments and Seer results (`insights`) oldest first, and its whole timeline. */
export type IssueView = Omit<IssueFacts, 'seer'> & {
  insights: IssueFacts['seer'];
  timeline: { kind: string; occurredAt: string; summary: string }[];
};

export interface StoreOptions {
  /** Milliseconds a write waits for a lock another connection holds (default 5000): SQLite's busy timeout, PostgreSQL's lock_timeout. */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 10). */
  poolSize?: number;
}

/** Opens the memory at `location`: a `postgres://` URL, else a SQLite file (created with its folder). Migrates it first. */
export async function openDatabase(location: string, options: StoreOptions = {}): Promise<MemoryDatabase> {
  if (engineOf(location) === 'postgres')
    return PostgresDatabase.open(location, { poolSize: options.poolSize, lockTimeoutMs: options.busyTimeoutMs });
  return new SqliteDatabase(location, { busyTimeoutMs: options.busyTimeoutMs });
}

/** The memory: merge records in, ask questions out, on whichever engine holds it. */
export class MemoryStore {
  constructor(readonly db: MemoryDatabase) {}

  static async open(location: string, options: StoreOptions = {}): Promise<MemoryStore> {
    return new MemoryStore(await openDatabase(location, options));
  }

  /**
   * Merges records from one source in a single transaction. `durable: false` commits without waiting
   * for the disk: for a bulk load that can be run again.
   */
  apply(
    workspaceId: string,
    source: string,
    records: readonly MemoryRecord[],
    options?: { durable?: boolean },
  ): Promise<void> {
    return this.db.transaction((tx) => applyRecords(tx, workspaceId, source, records), options);
  }

  /** After a bulk load, so that searches read one index segment each (SQLite; PostgreSQL's GIN indexes need no such step). */
  async optimizeSearchIndexes(): Promise<void> {
    if (this.db instanceof SqliteDatabase) this.db.optimizeSearchIndexes();
  }

  /** The issue `ref` names (id, short id or URL), or null when it is not in memory. */
  async issue(workspaceId: string, ref: string): Promise<IssueView | null> {
    try {
      const { seer, comments, ...facts } = await getIssueFacts(this.db, workspaceId, ref);
      return {
        ...facts,
        comments: [...comments].reverse(),
        insights: [...seer].reverse(),
        timeline: await getIssueTimeline(this.db, workspaceId, facts.id),
      };
    } catch (error) {
      if (error instanceof NotInMemoryError) return null;
      throw error;
    }
  }

  /** Who and where the issue `ref` names is hit: its tag values and their shares, or null when it is not in memory. */
  async issueTags(
    workspaceId: string,
    ref: string,
    options?: { key?: string; limit?: number },
  ): Promise<IssueTags | null> {
    try {
      return await getIssueTags(this.db, workspaceId, ref, options);
    } catch (error) {
      if (error instanceof NotInMemoryError) return null;
      throw error;
    }
  }

  /** Other issues that look like the same problem as the issue `ref` names, or null when it is not in memory. */
  async relatedIssues(workspaceId: string, ref: string, options?: { limit?: number }): Promise<RelatedIssues | null> {
    try {
      return await getRelatedIssues(this.db, workspaceId, ref, options);
    } catch (error) {
      if (error instanceof NotInMemoryError) return null;
      throw error;
    }
  }

  search(workspaceId: string, query: SearchQuery): Promise<SearchResult> {
    return searchMemory(this.db, workspaceId, query);
  }

  counts(workspaceId: string): Promise<RecordCounts> {
    return countRecords(this.db, workspaceId);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
