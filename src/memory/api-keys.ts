import { createHash, randomBytes } from 'node:crypto';
import type { MemoryDatabase } from './database.js';

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
export async function createApiKey(
  db: MemoryDatabase,
  workspaceId: string,
  name: string,
  now = new Date(),
): Promise<{ key: string; info: ApiKeyInfo }> {
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const key = `smk_${id}_${randomBytes(32).toString('base64url')}`;
  const createdAt = now.toISOString();
  await db.run(
    db.qb.insertInto('api_keys').values({
      id,
      workspace_id: workspaceId,
      name,
      key_hash: hashKey(key),
      created_at: createdAt,
      last_used_at: null,
      revoked_at: null,
    }),
  );
  return { key, info: { id, workspaceId, name, createdAt, lastUsedAt: null, revokedAt: null } };
}

/**
 * The workspace a presented key grants, or null. Looked up by hash (a unique index), so the
 * comparison never touches the secret and takes the same time for every wrong key.
 */
export async function verifyApiKey(
  db: MemoryDatabase,
  presented: string,
): Promise<{ keyId: string; workspaceId: string } | null> {
  if (!KEY_PATTERN.test(presented)) return null;
  const row = await db.get(
    db.qb
      .selectFrom('api_keys')
      .select(['id', 'workspace_id'])
      .where('key_hash', '=', hashKey(presented))
      .where('revoked_at', 'is', null),
  );
  return row ? { keyId: row.id, workspaceId: row.workspace_id } : null;
}

export async function listApiKeys(db: MemoryDatabase, workspaceId: string): Promise<ApiKeyInfo[]> {
  return (
    await db.all(
      db.qb
        .selectFrom('api_keys')
        .select(['id', 'workspace_id', 'name', 'created_at', 'last_used_at', 'revoked_at'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('created_at'),
    )
  ).map((r) => ({
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes a key of the workspace; false when it has no such active key. */
export async function revokeApiKey(
  db: MemoryDatabase,
  workspaceId: string,
  id: string,
  now = new Date(),
): Promise<boolean> {
  const result = await db.run(
    db.qb
      .updateTable('api_keys')
      .set({ revoked_at: now.toISOString() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null),
  );
  return result.changes > 0;
}
