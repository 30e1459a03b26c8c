import type { Logger } from 'pino';
import type { MemoryDatabase } from '../../memory/database.js';
import type { Inbox } from '../../queue/inbox.js';
import { resolveRegionUrl } from '../api/region.js';
import { SentryApiClient } from '../api/client.js';
import { pendingInstallations, type ConnectionRepository } from './connections.js';
import type { Credentials } from './credentials.js';
import { completeInstallation } from './installation.js';
import { StaticTokenProvider } from './token-provider.js';

export interface PublicIntegration {
  /** Sentry's control URL (`https://sentry.io` or self-hosted root), where installations authorize. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

/**
 * Completes public-integration installs: for every installation that `installation.created` left
 * pending, trades its one-time code for tokens, marks it installed in Sentry and stores the
 * connection (encrypted) so that sync can start. Runs outside the webhook path and the worker's
 * transaction, since it talks to Sentry. Returns the connection ids it activated.
 */
export async function activatePendingInstallations(args: {
  db: MemoryDatabase;
  /** Where the installation.created deliveries that carry the one-time codes are kept. */
  inbox: Pick<Inbox, 'newestBody'>;
  workspaceId: string;
  repository: ConnectionRepository;
  app: PublicIntegration;
  /** Installations already tried by this process: a failed code is not retried in a loop. */
  attempted: Set<string>;
  logger: Logger;
}): Promise<string[]> {
  const { db, inbox, workspaceId, repository, app, attempted, logger } = args;
  const pending = await pendingInstallations(db, workspaceId);
  const activated: string[] = [];
  for (const { external_id: installationUuid, org_slug: orgSlug } of pending) {
    if (!installationUuid || !orgSlug || attempted.has(installationUuid)) continue;
    attempted.add(installationUuid);
    const body = await inbox.newestBody(workspaceId, 'installation', 'created', installationUuid);
    const code = body
      ? (JSON.parse(body) as { data?: { installation?: { code?: unknown } } }).data?.installation?.code
      : undefined;
    if (typeof code !== 'string') continue;
    try {
      let credentials: Credentials | null = null;
      await completeInstallation({
        ...app,
        installationUuid,
        code,
        store: { load: async () => credentials, save: async (c) => void (credentials = c) },
      });
      const probe = new SentryApiClient({
        baseUrl: app.baseUrl,
        tokens: new StaticTokenProvider(credentials!.accessToken),
      });
      const apiUrl = await resolveRegionUrl(probe, orgSlug);
      const connection = await repository.save({
        orgSlug,
        apiUrl,
        auth: {
          kind: 'installation',
          authUrl: app.baseUrl,
          installationUuid,
          clientId: app.clientId,
          clientSecret: app.clientSecret,
          credentials: credentials!,
        },
      });
      activated.push(connection.id);
      logger.info({ connection: connection.id, org: orgSlug }, 'installation activated');
    } catch (error) {
      logger.error(
        { installation: installationUuid, err: error instanceof Error ? error.message : String(error) },
        'could not activate installation; reinstall the integration or use `sentry-memory connect`',
      );
    }
  }
  return activated;
}
