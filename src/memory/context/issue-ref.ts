import { sql } from 'kysely';
import type { MemoryDatabase } from '../database.js';
import { NotInMemoryError, QueryError } from './errors.js';

/** What an agent may pass to name an issue: numeric id, short id (CHECKOUT-API-7) or a Sentry issue URL. */
export type IssueRef = { id: string } | { shortId: string };

export function parseIssueRef(input: string): IssueRef {
  const ref = input.trim();
  if (!ref) throw new QueryError('issue must be an id, a short id like CHECKOUT-API-7, or a Sentry issue URL');
  if (/^https?:\/\//i.test(ref)) {
    // Sentry issue URLs: https://acme.sentry.io/issues/123/ or https://sentry.io/organizations/acme/issues/ACME-7/?project=1
    const match = /\/issues\/([^/?#]+)/.exec(new URL(ref).pathname);
    if (!match) throw new QueryError(`"${ref}" is not a Sentry issue URL: expected a path with /issues/<id>/`);
    return parseIssueRef(decodeURIComponent(match[1]));
  }
  if (/^\d+$/.test(ref)) return { id: ref };
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*-[0-9A-Za-z]+$/.test(ref)) return { shortId: ref };
  throw new QueryError(`"${ref}" is not an issue id, a short id like CHECKOUT-API-7, or a Sentry issue URL`);
}

/** The stored id of the issue `input` names, or a NotInMemoryError that says so. */
export async function resolveIssue(db: MemoryDatabase, workspaceId: string, input: string): Promise<string> {
  const ref = parseIssueRef(input);
  let q = db.qb.selectFrom('issues').select('id').where('workspace_id', '=', workspaceId);
  if ('id' in ref) q = q.where('id', '=', ref.id);
  // Short ids are matched case-insensitively, each engine through its own index (see the migrations).
  else if (db.engine === 'postgres') q = q.where(sql`lower(short_id)`, '=', ref.shortId.toLowerCase());
  else q = q.where(sql`short_id`, '=', sql`${ref.shortId} COLLATE NOCASE`);
  const row = await db.get(q.limit(1));
  if (!row)
    throw new NotInMemoryError(
      `no issue "${input.trim()}" in memory: search for it first, or check that its project is synced`,
    );
  return row.id;
}
