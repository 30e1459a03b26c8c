import { createHash, randomBytes } from 'node:crypto';
import type { MemoryDatabase } from './database.js';

/** How long a dashboard session lasts from sign-in. */
export const SESSION_TTL_MS = 12 * 3_600_000;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The sessions table and the inbox's indexes by time (the dashboard's deliveries per minute and
 * processing rate). `text` is the engine's text type. A session is found by its token's hash before
 * its workspace is known: the key leads with workspace_id (as every workspace table's does), the
 * lookup goes through a plain index on the hash.
 */
export function dashboardSql(text: string): string {
  return `
CREATE TABLE dashboard_sessions (
  workspace_id ${text} NOT NULL, token_hash ${text} NOT NULL, api_key_id ${text} NOT NULL,
  created_at ${text} NOT NULL, expires_at ${text} NOT NULL,
  PRIMARY KEY (workspace_id, token_hash)
);
CREATE INDEX dashboard_sessions_by_token ON dashboard_sessions (token_hash);
CREATE INDEX dashboard_sessions_by_key ON dashboard_sessions (workspace_id, api_key_id);
CREATE INDEX inbox_by_received ON inbox (workspace_id, received_at);
CREATE INDEX inbox_by_processed ON inbox (workspace_id, processed_at, state) WHERE processed_at IS NOT NULL;
`;
}

export interface Session {
  workspaceId: string;
  apiKeyId: string;
  expiresAt: string;
  /** Derived from the token (see csrfTokenOf): the page sends it back on every change it asks for. */
  csrfToken: string;
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** The CSRF token of a session: a hash of its token, so nothing more is stored and a cookie-less page cannot know it. */
export function csrfTokenOf(token: string): string {
  return createHash('sha256').update(`csrf\u0000${token}`).digest('base64url');
}

/** A new session for an API key that was just verified; the token (the cookie's value) exists only in the answer. */
export async function createSession(
  db: MemoryDatabase,
  grant: { keyId: string; workspaceId: string },
  now: number,
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now + SESSION_TTL_MS).toISOString();
  // Sign-in is when a workspace's expired sessions are swept: the table never grows past the live ones and a day's sign-ins.
  await db.run(
    db.qb
      .deleteFrom('dashboard_sessions')
      .where('workspace_id', '=', grant.workspaceId)
      .where('expires_at', '<=', new Date(now).toISOString()),
  );
  await db.run(
    db.qb.insertInto('dashboard_sessions').values({
      workspace_id: grant.workspaceId,
      token_hash: hashOf(token),
      api_key_id: grant.keyId,
      created_at: new Date(now).toISOString(),
      expires_at: expiresAt,
    }),
  );
  return {
    token,
    session: { workspaceId: grant.workspaceId, apiKeyId: grant.keyId, expiresAt, csrfToken: csrfTokenOf(token) },
  };
}

/**
 * The live session a token names, or null: unknown, expired (then deleted) or its API key revoked.
 * The key is read in the same query, so revoking it ends its sessions at once.
 */
export async function findSession(db: MemoryDatabase, token: string, now: number): Promise<Session | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const hash = hashOf(token);
  const row = await db.get(
    db.qb
      .selectFrom('dashboard_sessions as s')
      .innerJoin('api_keys as k', (join) =>
        join.onRef('k.workspace_id', '=', 's.workspace_id').onRef('k.id', '=', 's.api_key_id'),
      )
      .select(['s.workspace_id', 's.api_key_id', 's.expires_at', 'k.revoked_at'])
      .where('s.token_hash', '=', hash),
  );
  if (!row || row.revoked_at !== null) return null;
  if (row.expires_at <= new Date(now).toISOString()) {
    await deleteSession(db, token);
    return null;
  }
  return {
    workspaceId: row.workspace_id,
    apiKeyId: row.api_key_id,
    expiresAt: row.expires_at,
    csrfToken: csrfTokenOf(token),
  };
}

/** Sign-out: the session a token names ends. */
export async function deleteSession(db: MemoryDatabase, token: string): Promise<void> {
  await db.run(db.qb.deleteFrom('dashboard_sessions').where('token_hash', '=', hashOf(token)));
}
