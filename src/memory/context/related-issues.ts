import { clip } from '../../text.js';
import type { MemoryDatabase } from '../database.js';
import type { SignatureKind } from '../signatures.js';
import { resolveIssue } from './issue-ref.js';

/** Why two issues are the same problem: a signature they share (see memory/signatures.ts). */
export type RelatedReason = SignatureKind;

/** How a resolved issue was resolved, as far as the memory knows: what an agent can reuse. */
export interface Resolution {
  /** When it was last resolved (null: its status says resolved, no resolution was recorded). */
  at: string | null;
  release: string | null;
  commit: string | null;
  /** The newest comment on the issue, clipped. */
  comment: string | null;
}

export interface RelatedIssue {
  id: string;
  shortId: string | null;
  title: string | null;
  project: string | null;
  status: string | null;
  lastSeen: string | null;
  /** Most telling first: fingerprint, type and culprit, top frame, Seer's file. */
  reasons: RelatedReason[];
  /** Set when the related issue is resolved. */
  resolvedIn: Resolution | null;
}

export interface RelatedIssues {
  issue: string;
  shortId: string | null;
  related: RelatedIssue[];
}

export const DEFAULT_RELATED = 5;
export const MAX_RELATED = 20;
/** Issues read per shared signature: a culprit shared by thousands of issues says little about any one of them. */
const PER_SIGNATURE = 100;
const COMMENT_CHARS = 300;

const reasonOrder: RelatedReason[] = ['fingerprint', 'type_culprit', 'frame', 'seer_file'];

/**
 * "Have we seen this before?": other issues (any project) that share a signature with `ref` — its
 * grouping fingerprint, error type and culprit, top in-app frame, or a file Seer's root cause names.
 * More shared signatures first, then resolved ones (a fix to reuse), then the most recently seen.
 * Every read is an index lookup: the issue's signatures, the issues of each, then those issues' rows.
 */
export async function getRelatedIssues(
  db: MemoryDatabase,
  workspaceId: string,
  ref: string,
  options: { limit?: number } = {},
): Promise<RelatedIssues> {
  const id = await resolveIssue(db, workspaceId, ref);
  const [self, related] = await Promise.all([
    db.get(db.qb.selectFrom('issues').select('short_id').where('workspace_id', '=', workspaceId).where('id', '=', id)),
    relatedIssues(db, workspaceId, id, options.limit ?? DEFAULT_RELATED),
  ]);
  return { issue: id, shortId: self?.short_id ?? null, related };
}

/** The related issues of a stored issue (see getRelatedIssues), at most `limit`. */
export async function relatedIssues(
  db: MemoryDatabase,
  workspaceId: string,
  issueId: string,
  limit: number,
): Promise<RelatedIssue[]> {
  const signatures = await db.all(
    db.qb
      .selectFrom('issue_signatures')
      .select(['kind', 'value'])
      .where('workspace_id', '=', workspaceId)
      .where('issue_id', '=', issueId),
  );
  if (!signatures.length) return [];
  const matches = await Promise.all(
    signatures.map((s) =>
      db.all(
        db.qb
          .selectFrom('issue_signatures')
          .select('issue_id')
          .where('workspace_id', '=', workspaceId)
          .where('kind', '=', s.kind)
          .where('value', '=', s.value)
          .where('issue_id', '!=', issueId)
          .limit(PER_SIGNATURE),
      ),
    ),
  );
  const reasons = new Map<string, Set<RelatedReason>>();
  matches.forEach((rows, i) => {
    for (const row of rows) {
      const set = reasons.get(row.issue_id) ?? reasons.set(row.issue_id, new Set()).get(row.issue_id)!;
      set.add(signatures[i].kind);
    }
  });
  if (!reasons.size) return [];
  const rows = await db.all(
    db.qb
      .selectFrom('issues')
      .select(['id', 'short_id', 'title', 'project_slug', 'status', 'last_seen'])
      .where('workspace_id', '=', workspaceId)
      .where('id', 'in', [...reasons.keys()]),
  );
  const ranked = rows
    .map((row) => ({ row, reasons: reasonOrder.filter((r) => reasons.get(row.id)!.has(r)) }))
    .sort(
      (a, b) =>
        b.reasons.length - a.reasons.length ||
        Number(b.row.status === 'resolved') - Number(a.row.status === 'resolved') ||
        (b.row.last_seen ?? '').localeCompare(a.row.last_seen ?? '') ||
        (a.row.id < b.row.id ? -1 : 1),
    )
    .slice(0, limit);
  return Promise.all(
    ranked.map(async ({ row, reasons }) => ({
      id: row.id,
      shortId: row.short_id,
      title: row.title,
      project: row.project_slug,
      status: row.status,
      lastSeen: row.last_seen,
      reasons,
      resolvedIn: row.status === 'resolved' ? await resolutionOf(db, workspaceId, row.id) : null,
    })),
  );
}

/** How an issue was last resolved: that resolution's release and commit, and the issue's newest comment. */
async function resolutionOf(db: MemoryDatabase, workspaceId: string, issueId: string): Promise<Resolution> {
  const [resolved, comment] = await Promise.all([
    db.get(
      db.qb
        .selectFrom('observations')
        .select(['occurred_at', 'release', 'data'])
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', '=', issueId)
        .where('type', '=', 'issue.resolved')
        .orderBy('occurred_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1),
    ),
    db.get(
      db.qb
        .selectFrom('comments')
        .select(['author_name', 'text'])
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', '=', issueId)
        .where('deleted', '=', 0)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1),
    ),
  ]);
  const data = resolved?.data ? (JSON.parse(resolved.data) as { commit?: unknown }) : null;
  return {
    at: resolved?.occurred_at ?? null,
    release: resolved?.release ?? null,
    commit: typeof data?.commit === 'string' ? data.commit : null,
    comment: comment?.text
      ? clip(`${comment.author_name ? `${comment.author_name}: ` : ''}${comment.text}`, COMMENT_CHARS)
      : null,
  };
}
