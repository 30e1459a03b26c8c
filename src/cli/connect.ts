import { createServer } from 'node:http';
import { Command } from 'commander';
import { ConfigError } from '../config.js';
import { SentryApiClient } from '../sentry/api/client.js';
import { getOrganization } from '../sentry/api/endpoints.js';
import { resolveRegionUrl } from '../sentry/api/region.js';
import { clientFor, type ConnectionAuth } from '../sentry/auth/connections.js';
import { completeInstallation } from '../sentry/auth/installation.js';
import { buildAuthorizeUrl, createState, exchangeOAuthCode, statesMatch } from '../sentry/auth/oauth.js';
import { StaticTokenProvider } from '../sentry/auth/token-provider.js';
import { checkSentryUrl } from '../sentry/base-url.js';
import { openConnections } from './connections.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';
import { systemClock } from '../time.js';

export const REQUIRED_SCOPES = ['org:read', 'project:read', 'event:read', 'member:read', 'team:read'];

function required(value: string | undefined, what: string): string {
  if (!value) throw new ConfigError(`${what} is required`);
  return value;
}

/** Runs a one-shot local listener for the OAuth redirect and resolves with the code once `state` matches. */
function awaitOAuthRedirect(
  port: number,
  state: string,
  onListening: (redirectUri: string) => void,
): Promise<{ code: string; redirectUri: string }> {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      const code = url.searchParams.get('code');
      if (!code || !statesMatch(state, url.searchParams.get('state'))) {
        res.writeHead(400).end('Invalid OAuth callback (missing code or state mismatch).');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('sentry-memory is connected. You can close this window.');
      server.close();
      resolve({ code, redirectUri });
    });
    let redirectUri = '';
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      redirectUri = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/callback`;
      onListening(redirectUri);
    });
  });
}

export function connectCommand(): Command {
  return new Command('connect')
    .description('connect a Sentry organization: internal-integration token, public-integration installation, or OAuth')
    .requiredOption('--url <url>', 'Sentry URL: https://sentry.io or your self-hosted root')
    .requiredOption('--org <slug>', 'organization slug')
    .option('--token <token>', 'internal-integration token (or env SENTRY_AUTH_TOKEN)')
    .option('--installation <uuid>', 'public integration: installation uuid (from installation.created)')
    .option('--code <code>', 'public integration: the grant code from installation.created')
    .option('--oauth', 'OAuth 2.0: open the printed URL, approve, and the local redirect completes the connection')
    .option('--redirect-port <port>', 'OAuth: local port for the redirect (0 = any)', '0')
    .option('--client-id <id>', 'public integration / OAuth client id (or env SENTRY_CLIENT_ID)')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      await withStore(flags, async (store, workspaceId, config) => {
        const repository = await openConnections(store, config.db, workspaceId);
        const baseUrl = checkSentryUrl(String(flags.url));
        const clientId = flags.clientId ?? process.env.SENTRY_CLIENT_ID;
        const clientSecret = config.clientSecrets[0];
        let auth: ConnectionAuth;
        if (flags.installation || flags.code) {
          const installationUuid = required(flags.installation, '--installation');
          const secret = required(clientSecret, 'SENTRY_CLIENT_SECRET');
          const id = required(clientId, '--client-id or SENTRY_CLIENT_ID');
          let credentials = { accessToken: '', refreshToken: '', expiresAt: 0 };
          await completeInstallation({
            baseUrl,
            installationUuid,
            clientId: id,
            clientSecret: secret,
            code: required(flags.code, '--code'),
            store: { load: async () => credentials, save: async (c) => void (credentials = c) },
          });
          auth = {
            kind: 'installation',
            authUrl: baseUrl,
            installationUuid,
            clientId: id,
            clientSecret: secret,
            credentials,
          };
        } else if (flags.oauth) {
          const id = required(clientId, '--client-id or SENTRY_CLIENT_ID');
          const secret = required(clientSecret, 'SENTRY_CLIENT_SECRET');
          const state = createState();
          const { code, redirectUri } = await awaitOAuthRedirect(Number(flags.redirectPort), state, (redirectUri) => {
            process.stderr.write(
              `Open this URL to approve access:\n${buildAuthorizeUrl({ baseUrl, clientId: id, redirectUri, scopes: REQUIRED_SCOPES, state })}\n`,
            );
          });
          const grant = await exchangeOAuthCode({ baseUrl, clientId: id, clientSecret: secret, code, redirectUri });
          auth = { kind: 'oauth', authUrl: baseUrl, clientId: id, clientSecret: secret, credentials: grant };
        } else {
          auth = {
            kind: 'internal',
            token: required(flags.token ?? process.env.SENTRY_AUTH_TOKEN, '--token or SENTRY_AUTH_TOKEN'),
          };
        }
        // Region first (sentry.io serves each org from its region), then prove the credentials work.
        const probe = new SentryApiClient({
          baseUrl,
          tokens:
            auth.kind === 'internal'
              ? new StaticTokenProvider(auth.token)
              : new StaticTokenProvider(auth.credentials.accessToken),
        });
        const apiUrl = await resolveRegionUrl(probe, flags.org);
        const connection = await repository.save({ orgSlug: flags.org, apiUrl, auth });
        const organization = await getOrganization(clientFor(connection, repository, { now: systemClock }), flags.org);
        const summary = {
          connection: connection.id,
          organization: organization.slug,
          name: organization.name,
          apiUrl,
          auth: auth.kind,
        };
        if (flags.json) printJson(summary);
        else
          console.log(
            `Connected ${organization.slug} (${auth.kind}) via ${apiUrl} as ${connection.id}. Next: sentry-memory sync`,
          );
      });
    });
}
