import { dirname, join } from 'node:path';
import type { MemoryStore } from '../memory/store.js';
import { ConnectionRepository } from '../sentry/auth/connections.js';
import { loadEncryptionKey } from '../sentry/auth/crypto.js';

/** The key for secrets at rest: `SENTRY_MEMORY_ENCRYPTION_KEY`, else a 0600 key file beside the database. */
export async function openConnections(store: MemoryStore, dbPath: string, workspaceId: string): Promise<ConnectionRepository> {
  const key = await loadEncryptionKey({ envValue: process.env.SENTRY_MEMORY_ENCRYPTION_KEY, keyFile: join(dirname(dbPath), 'encryption.key') });
  return new ConnectionRepository(store.db, workspaceId, key);
}
