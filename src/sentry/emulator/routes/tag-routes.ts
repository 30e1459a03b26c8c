import type { IssueRecord } from '../model.js';
import { json, notFound, type Reply, type RequestContext } from '../router.js';
import { issueTagCounts, tagKeyName, TOP_VALUES, type TagValueCount } from '../tags.js';
import { pagedReply } from './lists.js';

/** `/issues/{id}/tags/`, `/tags/{key}/` and `/tags/{key}/values/`, counted from the issue's events. */
export function issueTagHandlers(): [string, (ctx: RequestContext, issue: IssueRecord) => Reply][] {
  const keyOf = (ctx: RequestContext, issue: IssueRecord) =>
    issueTagCounts(issue).find((t) => t.key === decodeURIComponent(ctx.params.key));
  return [
    [':issueId/tags/', (_ctx, issue) => json(issueTagCounts(issue).map(serializeTag))],
    [
      ':issueId/tags/:key/',
      (ctx, issue) => {
        const tag = keyOf(ctx, issue);
        return tag ? json(serializeTag(tag)) : notFound();
      },
    ],
    [
      ':issueId/tags/:key/values/',
      (ctx, issue) => {
        const tag = keyOf(ctx, issue);
        if (!tag) return notFound();
        const values = sortValues(tag.values, ctx.url.searchParams.get('sort') ?? '-id');
        return pagedReply(ctx, values, (v) => serializeValue(tag.key, v));
      },
    ],
  ];
}

export function serializeTag(tag: ReturnType<typeof issueTagCounts>[number]) {
  return {
    key: tag.key,
    name: tagKeyName(tag.key),
    uniqueValues: tag.values.length,
    totalValues: tag.total,
    topValues: tag.values.slice(0, TOP_VALUES).map((v) => serializeValue(tag.key, v)),
  };
}

export function serializeValue(key: string, v: TagValueCount) {
  return { key, name: v.value, value: v.value, count: v.count, lastSeen: v.lastSeen, firstSeen: v.firstSeen };
}

/** Sentry's `sort`: count, date (last seen), age (first seen) or id, `-` for descending. */
function sortValues(values: TagValueCount[], sort: string): TagValueCount[] {
  const descending = sort.startsWith('-');
  const field = sort.replace(/^-/, '');
  const key = (v: TagValueCount): number | string =>
    field === 'count' ? v.count : field === 'date' ? v.lastSeen : field === 'age' ? v.firstSeen : v.value;
  return [...values].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    const order = x < y ? -1 : x > y ? 1 : a.value < b.value ? -1 : 1;
    return descending ? -order : order;
  });
}
