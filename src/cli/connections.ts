import { dirname, join } from 'node:path';
import { engineOf } from '../memory/database.js';
import type { MemoryStore } from '../memory/store.js';
import { ConnectionRepository } from '../sentry/auth/connections.js';
import { loadEncryptionKey } from '../sentry/auth/crypto.js';

/**
 * The key for secrets at rest: `SENTRY_MEMORY_ENCRYPTION_KEY`, else (SQLite only) a 0600 key file
 * beside the database. PostgreSQL is shared by processes on several machines: the key must come from
 * the environment.
 */
export function loadConnectionsKey(db: string): Promise<Buffer> {
  const keyFile = engineOf(db) === 'sqlite' ? join(dirname(db), 'encryption.key') : null;
  return loadEncryptionKey({ envValue: process.env.SENTRY_MEMORY_ENCRYPTION_KEY, keyFile });
}

export async function openConnections(
  store: MemoryStore,
  db: string,
  workspaceId: string,
): Promise<ConnectionRepository> {
  return new ConnectionRepository(store.db, workspaceId, await loadConnectionsKey(db));
}
