import type { MemoryDatabase } from '../../memory/database.js';
import type { Clock } from '../../time.js';

/** Where a stream stands: the cursor of the next page to fetch, and stream-specific state. */
export interface Checkpoint<S = Record<string, unknown>> {
  cursor: string | null;
  state: S | null;
  updatedAt: string;
}

/** Per-connection, per-stream checkpoints, written in the same transaction as the page they follow. */
export class CheckpointStore {
  constructor(
    private readonly db: MemoryDatabase,
    private readonly workspaceId: string,
    private readonly connectionId: string,
    private readonly now: Clock,
  ) {}

  async get<S>(stream: string): Promise<Checkpoint<S> | null> {
    const row = await this.db.get(
      this.db.qb
        .selectFrom('sync_checkpoints')
        .select(['cursor', 'state', 'updated_at'])
        .where('workspace_id', '=', this.workspaceId)
        .where('connection_id', '=', this.connectionId)
        .where('stream', '=', stream),
    );
    return row
      ? { cursor: row.cursor, state: row.state ? (JSON.parse(row.state) as S) : null, updatedAt: row.updated_at }
      : null;
  }

  async save(stream: string, cursor: string | null, state: unknown): Promise<void> {
    const row = {
      workspace_id: this.workspaceId,
      connection_id: this.connectionId,
      stream,
      cursor,
      state: state == null ? null : JSON.stringify(state),
      updated_at: new Date(this.now()).toISOString(),
    };
    await this.db.run(
      this.db.qb
        .insertInto('sync_checkpoints')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['workspace_id', 'connection_id', 'stream'])
            .doUpdateSet({ cursor: row.cursor, state: row.state, updated_at: row.updated_at }),
        ),
    );
  }
}
