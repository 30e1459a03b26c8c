import { createHash, randomBytes } from 'node:crypto';
import type { SqliteDatabase } from './sqlite.js';

/** Keys look like `smk_<id>_<secret>`: the id names the key in lists; only a SHA-256 of the whole key is stored. */
const KEY_PATTERN = /^smk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyInfo {
  id: string;
  workspaceId: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key for one workspace and returns it: the only time the key itself is ever available. */
export function createApiKey(db: SqliteDatabase, workspaceId: string, name: string, now = new Date()): { key: string; info: ApiKeyInfo } {
  const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const key = `smk_${id}_${randomBytes(32).toString('base64url')}`;
  const createdAt = now.toISOString();
  db.run(db.qb.insertInto('api_keys').values({ id, workspace_id: workspaceId, name, key_hash: hashKey(key), created_at: createdAt, last_used_at: null, revoked_at: null }));
  return { key, info: { id, workspaceId, name, createdAt, lastUsedAt: null, revokedAt: null } };
}

/**
 * The workspace a presented key grants, or null. Looked up by hash (a unique index), so the
 * comparison never touches the secret and takes the same time for every wrong key.
 */
export function verifyApiKey(db: SqliteDatabase, presented: string): { keyId: string; workspaceId: string } | null {
  if (!KEY_PATTERN.test(presented)) return null;
  const row = db.get(db.qb.selectFrom('api_keys').select(['id', 'workspace_id']).where('key_hash', '=', hashKey(presented)).where('revoked_at', 'is', null));
  return row ? { keyId: row.id, workspaceId: row.workspace_id } : null;
}

export function listApiKeys(db: SqliteDatabase, workspaceId: string): ApiKeyInfo[] {
  return db
    .all(db.qb.selectFrom('api_keys').select(['id', 'workspace_id', 'name', 'created_at', 'last_used_at', 'revoked_at']).where('workspace_id', '=', workspaceId).orderBy('created_at'))
    .map((r) => ({ id: r.id, workspaceId: r.workspace_id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at }));
}

/** Revokes a key of the workspace; false when it has no such active key. */
export function revokeApiKey(db: SqliteDatabase, workspaceId: string, id: string, now = new Date()): boolean {
  const result = db.run(db.qb.updateTable('api_keys').set({ revoked_at: now.toISOString() }).where('workspace_id', '=', workspaceId).where('id', '=', id).where('revoked_at', 'is', null));
  return result.changes > 0;
}
