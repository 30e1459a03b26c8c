import { getIssueView, type IssueView } from './issue-view.js';
import type { MemoryRecord } from './records.js';
import { searchMemory, type SearchQuery, type SearchResult } from './context/search.js';
import { SqliteDatabase } from './sqlite.js';
import { countRecords, type RecordCounts } from './stats.js';
import { applyRecords } from './writer.js';

/** The memory on embedded SQLite: merge records in, ask questions out. */
export class MemoryStore {
  readonly db: SqliteDatabase;

  constructor(path: string, options: { busyTimeoutMs?: number } = {}) {
    this.db = new SqliteDatabase(path, options);
  }

  /** Merges records from one source in a single transaction. */
  apply(workspaceId: string, source: string, records: readonly MemoryRecord[]): void {
    this.db.transaction(() => applyRecords(this.db, workspaceId, source, records));
  }

  issue(workspaceId: string, ref: string): IssueView | null {
    return getIssueView(this.db, workspaceId, ref);
  }

  search(workspaceId: string, query: SearchQuery): SearchResult {
    return searchMemory(this.db, workspaceId, query);
  }

  counts(workspaceId: string): RecordCounts {
    return countRecords(this.db, workspaceId);
  }

  close(): void {
    this.db.close();
  }
}
