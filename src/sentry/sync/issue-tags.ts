import type { MemoryDatabase } from '../../memory/database.js';
import { issuesNeedingTags } from '../../memory/issue-tags.js';
import { applyRecords } from '../../memory/writer.js';
import { getIssueTags, getIssueTagValues, type SentryReader } from '../api/endpoints.js';
import { SentryApiError } from '../api/errors.js';
import type { IssueTagValue } from '../api/schemas.js';
import { mapApiIssueTags, topValuesCutOff } from '../mapping/issue-tags.js';
import { SENTRY_SOURCE } from '../source.js';
import type { Clock } from '../../time.js';

/** Enough for the busiest issues of a window each run; the rest follow in later runs (they stay stale). */
export const DEFAULT_TAG_REQUEST_BUDGET = 100;
/** Values read per cut-off key: one page, Sentry's largest. */
const VALUES_PAGE = 100;

export interface IssueTagsSummary {
  fetched: number;
  skippedForBudget: number;
}

/**
 * Reads the tag distributions of the issues active since `since` whose stored tags are older than
 * their last event, most active first, spending at most `tagRequestBudget` requests: one for the
 * keys, one more per key whose top values Sentry cut off.
 */
export async function syncIssueTags(options: {
  client: SentryReader;
  organization: string;
  workspaceId: string;
  db: MemoryDatabase;
  since: string;
  now: Clock;
  tagRequestBudget?: number;
}): Promise<IssueTagsSummary> {
  const { client, organization, workspaceId, db } = options;
  let budget = options.tagRequestBudget ?? DEFAULT_TAG_REQUEST_BUDGET;
  const stale = await issuesNeedingTags(db, workspaceId, options.since);
  const summary: IssueTagsSummary = { fetched: 0, skippedForBudget: 0 };
  for (const issueId of stale) {
    if (budget < 1) {
      summary.skippedForBudget += 1;
      continue;
    }
    // Sentry's counts hold every event it has by the time it answers: events after this are added here.
    const observedAt = new Date(options.now()).toISOString();
    budget -= 1;
    const tags = await getIssueTags(client, organization, issueId).catch(notFoundAs(null));
    if (!tags) continue;
    const values = new Map<string, IssueTagValue[]>();
    for (const tag of tags.filter(topValuesCutOff)) {
      if (budget < 1) break;
      budget -= 1;
      values.set(
        tag.key,
        await getIssueTagValues(client, organization, issueId, tag.key, VALUES_PAGE).catch(notFoundAs([])),
      );
    }
    await db.transaction((tx) =>
      applyRecords(tx, workspaceId, SENTRY_SOURCE, [mapApiIssueTags(issueId, tags, values, observedAt)]),
    );
    summary.fetched += 1;
  }
  return summary;
}

function notFoundAs<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof SentryApiError && error.kind === 'not_found') return value;
    throw error;
  };
}
