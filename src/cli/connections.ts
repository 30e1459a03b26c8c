import { dirname, join } from 'node:path';
import type { MemoryStore } from '../memory/store.js';
import { ConnectionRepository } from '../sentry/auth/connections.js';
import { loadEncryptionKey } from '../sentry/auth/crypto.js';

/** The key for secrets at rest: `SENTRY_MEMORY_ENCRYPTION_KEY`, else a 0600 key file beside the database. */
export function loadConnectionsKey(dbPath: string): Promise<Buffer> {
  return loadEncryptionKey({ envValue: process.env.SENTRY_MEMORY_ENCRYPTION_KEY, keyFile: join(dirname(dbPath), 'encryption.key') });
}

export async function openConnections(store: MemoryStore, dbPath: string, workspaceId: string): Promise<ConnectionRepository> {
  return new ConnectionRepository(store.db, workspaceId, await loadConnectionsKey(dbPath));
}
