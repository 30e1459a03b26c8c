import type { MemoryDatabase } from '../database.js';
import { resolveIssue } from './issue-ref.js';

export interface IssueTagDistribution {
  key: string;
  name: string | null;
  /** Events that carry the key. */
  total: number;
  /** Events whose value is not among the kept ones. */
  other: number;
  /** Most frequent first; `share` is of `total`, 0..1. */
  values: { value: string; count: number; share: number }[];
}

export interface IssueTags {
  issue: string;
  shortId: string | null;
  /** When the source's counts were read (null: counted from stored events only). */
  syncedAt: string | null;
  tags: IssueTagDistribution[];
}

export const DEFAULT_TAG_VALUES = 5;

/** Who and where an issue hits: its tag keys, busiest first, each with its `limit` most frequent values. */
export async function getIssueTags(
  db: MemoryDatabase,
  workspaceId: string,
  ref: string,
  options: { key?: string; limit?: number } = {},
): Promise<IssueTags> {
  const id = await resolveIssue(db, workspaceId, ref);
  const limit = options.limit ?? DEFAULT_TAG_VALUES;
  let keys = db.qb
    .selectFrom('issue_tag_keys')
    .select(['key', 'name', 'total', 'other', 'synced_at'])
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', id);
  let values = db.qb
    .selectFrom('issue_tag_values')
    .select(['key', 'value', 'count'])
    .where('workspace_id', '=', workspaceId)
    .where('issue_id', '=', id);
  if (options.key !== undefined) {
    keys = keys.where('key', '=', options.key);
    values = values.where('key', '=', options.key);
  }
  const [keyRows, valueRows, issue] = await Promise.all([
    db.all(keys),
    db.all(values),
    db.get(db.qb.selectFrom('issues').select('short_id').where('workspace_id', '=', workspaceId).where('id', '=', id)),
  ]);
  const valuesByKey = new Map<string, { value: string; count: number }[]>();
  for (const row of valueRows) {
    const list = valuesByKey.get(row.key) ?? valuesByKey.set(row.key, []).get(row.key)!;
    list.push({ value: row.value, count: Number(row.count) });
  }
  const tags = keyRows
    .map((row) => {
      const total = Number(row.total);
      return {
        key: row.key,
        name: row.name,
        total,
        other: Number(row.other),
        values: (valuesByKey.get(row.key) ?? [])
          .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
          .slice(0, limit)
          .map((v) => ({ ...v, share: total ? v.count / total : 0 })),
      };
    })
    .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
  return {
    issue: id,
    shortId: issue?.short_id ?? null,
    syncedAt: keyRows.find((r) => r.synced_at !== null)?.synced_at ?? null,
    tags,
  };
}

export interface AffectedValue {
  key: string;
  value: string;
  /** Of the issue's events with the key, 0..1. */
  share: number;
  /** Of the project's events with the key (summed over its issues' stored counts), 0..1; null when unknown. */
  projectShare: number | null;
}

/** Keys that describe the error itself rather than who or where it hits. */
const NOT_WHO_OR_WHERE = new Set(['level', 'handled', 'mechanism']);
/** Fewer events than this say little about a mix. */
const MIN_EVENTS = 5;
const MAX_AFFECTED = 6;
/** The project's usual mix is that of its issues seen most recently, this many. */
const PROJECT_MIX_ISSUES = 100;

/**
 * "Who is affected": the values that most of the issue's events share (≥ 50%), and those far above
 * the project's usual mix (at least twice its share there and 20 points more), most unusual first.
 * `project` is the issue's project slug.
 */
export async function affectedValues(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  project: string | null,
): Promise<AffectedValue[]> {
  const { tags } = await getIssueTags(db, workspaceId, issueId, { limit: 3 });
  const candidates = tags
    .filter((t) => t.total >= MIN_EVENTS && !NOT_WHO_OR_WHERE.has(t.key))
    .flatMap((t) =>
      t.values.filter((v) => v.share >= 0.2).map((v) => ({ key: t.key, value: v.value, share: v.share })),
    );
  if (!candidates.length) return [];
  const mix = project ? await projectMix(db, workspaceId, project, candidates) : new Map<string, number>();
  return candidates
    .map((c) => ({ ...c, projectShare: mix.get(`${c.key}\u0000${c.value}`) ?? null }))
    .filter(
      (c) =>
        c.share >= 0.5 || (c.projectShare !== null && c.share >= 2 * c.projectShare && c.share - c.projectShare >= 0.2),
    )
    .sort((a, b) => b.share - (b.projectShare ?? 0) - (a.share - (a.projectShare ?? 0)) || (a.key < b.key ? -1 : 1))
    .slice(0, MAX_AFFECTED);
}

/**
 * Each value's share of its key over the project's most recently seen issues: the project's usual mix
 * as of late, read by issue key (a sum over every issue of a large project would take seconds).
 */
async function projectMix(
  db: MemoryDatabase,
  workspaceId: string,
  project: string,
  values: { key: string; value: string }[],
): Promise<Map<string, number>> {
  const keys = [...new Set(values.map((v) => v.key))];
  // The ids first, as values: given a subquery, the planners scan every issue's row of a common value.
  const recent = (
    await db.all(
      db.qb
        .selectFrom('issues')
        .select('id')
        .where('workspace_id', '=', workspaceId)
        .where('project_slug', '=', project)
        .orderBy('last_seen', 'desc')
        .limit(PROJECT_MIX_ISSUES),
    )
  ).map((r) => r.id);
  const [totals, counts] = await Promise.all([
    db.all(
      db.qb
        .selectFrom('issue_tag_keys as k')
        .select((eb) => ['k.key', eb.fn.sum<number>('k.total').as('total')])
        .where('k.workspace_id', '=', workspaceId)
        .where('k.issue_id', 'in', recent)
        .where('k.key', 'in', keys)
        .groupBy('k.key'),
    ),
    db.all(
      db.qb
        .selectFrom('issue_tag_values as v')
        .select((eb) => ['v.key', 'v.value', eb.fn.sum<number>('v.count').as('count')])
        .where('v.workspace_id', '=', workspaceId)
        .where('v.issue_id', 'in', recent)
        // Keys and values as two lists (the pairs are picked below), so each issue's rows are probed by key.
        .where('v.key', 'in', keys)
        .where('v.value', 'in', [...new Set(values.map((v) => v.value))])
        .groupBy(['v.key', 'v.value']),
    ),
  ]);
  const totalOf = new Map(totals.map((t) => [t.key, Number(t.total)]));
  const wanted = new Set(values.map((v) => `${v.key}\u0000${v.value}`));
  return new Map(
    counts
      .map((c) => [`${c.key}\u0000${c.value}`, totalOf.get(c.key) ? Number(c.count) / totalOf.get(c.key)! : 0] as const)
      .filter(([pair]) => wanted.has(pair)),
  );
}
