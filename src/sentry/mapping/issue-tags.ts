import type { IssueTagsRecord } from '../../memory/records.js';
import type { IssueTag, IssueTagValue } from '../api/schemas.js';

/** Whether Sentry's `topValues` of a key leave some of its events out: its values endpoint has the rest. */
export function topValuesCutOff(tag: IssueTag): boolean {
  const shown = (tag.topValues ?? []).reduce((sum, v) => sum + (v.count ?? 0), 0);
  return (tag.totalValues ?? 0) > shown;
}

/**
 * `/issues/{id}/tags/` (with, per key whose top values were cut off, `/tags/{key}/values/`) as the
 * issue's tag counts at `observedAt`. A value listed by both keeps the larger count.
 */
export function mapApiIssueTags(
  issueId: string,
  tags: readonly IssueTag[],
  valuesByKey: ReadonlyMap<string, readonly IssueTagValue[]>,
  observedAt: string,
): IssueTagsRecord {
  return {
    kind: 'issue_tags',
    issueId,
    observedAt,
    keys: tags.map((tag) => {
      const counts = new Map<string, number>();
      for (const v of [...(tag.topValues ?? []), ...(valuesByKey.get(tag.key) ?? [])])
        if (v.value != null && v.count != null && v.count > 0)
          counts.set(v.value, Math.max(v.count, counts.get(v.value) ?? 0));
      const values = [...counts].map(([value, count]) => ({ value, count }));
      const listed = values.reduce((sum, v) => sum + v.count, 0);
      return { key: tag.key, name: tag.name ?? null, total: Math.max(tag.totalValues ?? 0, listed), values };
    }),
  };
}
