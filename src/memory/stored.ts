import type { MemoryDatabase } from './database.js';

/**
 * What memory already holds of one record, for a source's sync to compare with what the source lists
 * and skip fetching the details of what has not changed.
 */

/** An issue's activity and its counts of events and live comments; undefined when it is not stored. */
export function storedIssue(db: MemoryDatabase, workspaceId: string, id: string) {
  return db.get(
    db.qb
      .selectFrom('issues')
      .select(['last_seen', 'status', 'substatus', 'assignee_id'])
      .select((eb) => [
        eb
          .selectFrom('events')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('events.workspace_id', '=', 'issues.workspace_id')
          .whereRef('events.issue_id', '=', 'issues.id')
          .as('events'),
        eb
          .selectFrom('comments')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('comments.workspace_id', '=', 'issues.workspace_id')
          .whereRef('comments.issue_id', '=', 'issues.id')
          .where('comments.deleted', '=', 0)
          .as('comments'),
      ])
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id),
  );
}

/** A release's commit count and its number of deploys; undefined when it is not stored. */
export function storedRelease(db: MemoryDatabase, workspaceId: string, version: string) {
  return db.get(
    db.qb
      .selectFrom('releases')
      .select(['commit_count'])
      .select((eb) =>
        eb
          .selectFrom('deploys')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('deploys.workspace_id', '=', 'releases.workspace_id')
          .whereRef('deploys.release', '=', 'releases.version')
          .as('deploys'),
      )
      .where('workspace_id', '=', workspaceId)
      .where('version', '=', version),
  );
}

/** The issue's stored events after `at`: what a snapshot of the source's counts read at `at` does not count. */
export function eventsAfter(db: MemoryDatabase, workspaceId: string, issueId: string, at: string) {
  return db.all(
    db.qb
      .selectFrom('events')
      .select(['occurred_at', 'tags'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', issueId)
      .where('occurred_at', '>', at),
  );
}
