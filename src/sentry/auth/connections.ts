import { prepared, type MemoryDatabase } from '../../memory/database.js';
import { versionOf } from '../../memory/versions.js';
import type { Clock } from '../../time.js';
import { SentryApiClient, type ApiLogger } from '../api/client.js';
import { SENTRY_SOURCE } from '../source.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { decryptSecret, encryptSecret } from './crypto.js';
import { InstallationTokenProvider } from './installation.js';
import { OAuthTokenProvider } from './oauth.js';
import { StaticTokenProvider, type TokenProvider } from './token-provider.js';

/** How a connection authenticates. Stored encrypted as one blob; never printed or logged. */
export type ConnectionAuth =
  | { kind: 'internal'; token: string }
  | {
      kind: 'installation';
      authUrl: string;
      installationUuid: string;
      clientId: string;
      clientSecret: string;
      credentials: Credentials;
    }
  | { kind: 'oauth'; authUrl: string; clientId: string; clientSecret: string; credentials: Credentials };

export interface SentryConnection {
  id: string;
  orgSlug: string;
  /** Where API calls go: the org's region URL on sentry.io, the root of a self-hosted install. */
  apiUrl: string;
  state: string;
  auth: ConnectionAuth;
}

/** Sentry connections of a workspace, with their credentials encrypted at rest (AES-256-GCM). */
export class ConnectionRepository {
  constructor(
    private readonly db: MemoryDatabase,
    private readonly workspaceId: string,
    private readonly key: Buffer,
  ) {}

  async save(connection: Omit<SentryConnection, 'id' | 'state'> & { id?: string }): Promise<SentryConnection> {
    const externalId =
      connection.auth.kind === 'installation' ? connection.auth.installationUuid : `org:${connection.orgSlug}`;
    const existing = await this.db.get(
      this.db.qb
        .selectFrom('connections')
        .select('id')
        .where('workspace_id', '=', this.workspaceId)
        .where('source', '=', SENTRY_SOURCE)
        .where('external_id', '=', externalId),
    );
    const id = connection.id ?? existing?.id ?? `${SENTRY_SOURCE}:${externalId}`;
    const now = new Date().toISOString();
    const row = {
      workspace_id: this.workspaceId,
      id,
      source: SENTRY_SOURCE,
      external_id: externalId,
      org_slug: connection.orgSlug,
      app_slug: null,
      base_url: connection.apiUrl,
      auth_kind: connection.auth.kind,
      credentials: encryptSecret(JSON.stringify(connection.auth), this.key),
      state: 'installed',
      state_version: versionOf({ value: 'installed', at: now }),
      updated_at: now,
    };
    await this.db.run(
      this.db.qb
        .insertInto('connections')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['workspace_id', 'id']).doUpdateSet({ ...row, workspace_id: undefined, id: undefined }),
        ),
    );
    return { id, orgSlug: connection.orgSlug, apiUrl: connection.apiUrl, state: 'installed', auth: connection.auth };
  }

  /** Connections that can sync: credentials present and not uninstalled. */
  async active(): Promise<SentryConnection[]> {
    const rows = await this.db.all(
      this.db.qb
        .selectFrom('connections')
        .selectAll()
        .where('workspace_id', '=', this.workspaceId)
        .where('source', '=', SENTRY_SOURCE)
        .where('credentials', 'is not', null)
        .where('state', '!=', 'deleted')
        .orderBy('id'),
    );
    return rows.map((row) => ({
      id: row.id,
      orgSlug: row.org_slug ?? '',
      apiUrl: row.base_url ?? '',
      state: row.state,
      auth: JSON.parse(decryptSecret(row.credentials!, this.key)) as ConnectionAuth,
    }));
  }

  /** Persists refreshed token pairs into the connection's encrypted blob. */
  credentialStore(connectionId: string): CredentialStore {
    const read = async (): Promise<SentryConnection> => {
      const connection = (await this.active()).find((c) => c.id === connectionId);
      if (!connection) throw new Error(`connection ${connectionId} not found or not active`);
      return connection;
    };
    return {
      load: async () => {
        const { auth } = await read();
        return auth.kind === 'internal' ? null : auth.credentials;
      },
      save: async (credentials) => {
        const connection = await read();
        if (connection.auth.kind === 'internal') return;
        await this.save({ ...connection, auth: { ...connection.auth, credentials } });
      },
    };
  }
}

/** Installations that `installation.created` left pending (no credentials yet), to activate. */
export function pendingInstallations(
  db: MemoryDatabase,
  workspaceId: string,
): Promise<{ external_id: string | null; org_slug: string | null }[]> {
  return db.all(
    db.qb
      .selectFrom('connections')
      .select(['external_id', 'org_slug'])
      .where('workspace_id', '=', workspaceId)
      .where('source', '=', SENTRY_SOURCE)
      .where('state', '=', 'pending')
      .where('credentials', 'is', null),
  );
}

/** Whether the installation was uninstalled; asked for every delivery, so one prepared statement. */
export async function isInstallationDeleted(
  db: MemoryDatabase,
  workspaceId: string,
  installationUuid: string,
): Promise<boolean> {
  const statement = prepared(db, 'connection state by installation', (qb) =>
    qb
      .selectFrom('connections')
      .select('state')
      .where('workspace_id', '=', '')
      .where('source', '=', '')
      .where('external_id', '=', ''),
  );
  const connection = await db.get(statement(workspaceId, SENTRY_SOURCE, installationUuid));
  return connection?.state === 'deleted';
}

/**
 * An API client for a connection: its API URL, and tokens refreshed into its encrypted record; `now`
 * decides when they expire. (Pacing and backoff keep the client's own clock: it pairs with its sleep.)
 */
export function clientFor(
  connection: SentryConnection,
  repository: ConnectionRepository,
  options: { now: Clock; logger?: ApiLogger },
): SentryApiClient {
  const { now, logger } = options;
  return new SentryApiClient({
    baseUrl: connection.apiUrl,
    tokens: tokenProviderFor(connection, repository.credentialStore(connection.id), now, logger),
    logger,
  });
}

/** The token provider a connection needs: static for internal integrations, refreshing otherwise. */
function tokenProviderFor(
  connection: SentryConnection,
  store: CredentialStore,
  now: Clock,
  logger?: ApiLogger,
): TokenProvider {
  const { auth } = connection;
  switch (auth.kind) {
    case 'internal':
      return new StaticTokenProvider(auth.token);
    case 'installation':
      return new InstallationTokenProvider({
        baseUrl: auth.authUrl,
        installationUuid: auth.installationUuid,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        store,
        logger,
        now,
      });
    case 'oauth':
      return new OAuthTokenProvider({
        baseUrl: auth.authUrl,
        clientId: auth.clientId,
        clientSecret: auth.clientSecret,
        store,
        logger,
        now,
      });
  }
}
