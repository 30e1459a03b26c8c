import type { ApiLogger } from '../api/client.js';
import { sendAuthRequest } from './auth-http.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { SentryAuthError } from './errors.js';
import { createClientSecretJwt } from './jwt.js';
import { RefreshingTokenProvider } from './refreshing-token-provider.js';
import { systemClock, type Clock } from '../../time.js';

/**
 * Grant of Sentry's "manual refresh" for integrators: a JWT signed with the
 * client secret, sent as the bearer token. Note the `urn:sentry:` namespace —
 * Sentry uses `urn:ietf:params:oauth:grant-type:jwt-bearer` for a different
 * grant (ID-JAG on its OAuth endpoint).
 */
export const CLIENT_SECRET_JWT_GRANT = 'urn:sentry:params:oauth:grant-type:jwt-bearer';

/** Identifies one installation of our public integration (sentry app). */
export interface InstallationApp {
  /** Control-silo host, e.g. `https://sentry.io` (not a region URL). */
  baseUrl: string;
  installationUuid: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Trades the grant code (from the redirect or `installation.created` webhook) for the first token pair. */
export async function exchangeInstallationCode(app: InstallationApp & { code: string }): Promise<Credentials> {
  const body = await sendAuthRequest({
    ...transport(app),
    url: authorizationsUrl(app),
    method: 'POST',
    encoding: 'json',
    body: {
      grant_type: 'authorization_code',
      code: app.code,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    },
  });
  return parseInstallationToken(body);
}

export async function refreshInstallationToken(app: InstallationApp & { refreshToken: string }): Promise<Credentials> {
  const body = await sendAuthRequest({
    ...transport(app),
    url: authorizationsUrl(app),
    method: 'POST',
    encoding: 'json',
    body: {
      grant_type: 'refresh_token',
      refresh_token: app.refreshToken,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    },
  });
  return parseInstallationToken(body);
}

/** New token pair without a refresh token, for when a refresh response was lost in transit. */
export async function requestInstallationTokenWithJwt(
  app: InstallationApp & { now?: () => number },
): Promise<Credentials> {
  const assertion = createClientSecretJwt({
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    nowMs: (app.now ?? systemClock)(),
  });
  const body = await sendAuthRequest({
    ...transport(app),
    url: authorizationsUrl(app),
    method: 'POST',
    encoding: 'json',
    bearer: assertion,
    body: { grant_type: CLIENT_SECRET_JWT_GRANT },
  });
  return parseInstallationToken(body);
}

/** For apps with "Verify Install" enabled: tells Sentry our side of the setup is done. */
export async function markInstallationInstalled(args: {
  baseUrl: string;
  installationUuid: string;
  accessToken: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}): Promise<void> {
  await sendAuthRequest({
    ...transport(args),
    url: `${trimBase(args.baseUrl)}/api/0/sentry-app-installations/${encodeURIComponent(args.installationUuid)}/`,
    method: 'PUT',
    encoding: 'json',
    bearer: args.accessToken,
    body: { status: 'installed' },
  });
}

/** Exchange, persist, then verify — in that order, so a crash never loses the first pair. */
export async function completeInstallation(
  app: InstallationApp & { code: string; store: CredentialStore },
): Promise<Credentials> {
  const credentials = await exchangeInstallationCode(app);
  await app.store.save(credentials);
  await markInstallationInstalled({ ...app, accessToken: credentials.accessToken });
  return credentials;
}

export interface InstallationTokenProviderOptions extends InstallationApp {
  store: CredentialStore;
  refreshSkewMs?: number;
  now?: Clock;
  logger?: ApiLogger;
}

/** Installation tokens live 8 hours; refreshed by refresh token, recovered by client-secret JWT. */
export class InstallationTokenProvider extends RefreshingTokenProvider {
  constructor(options: InstallationTokenProviderOptions) {
    super({
      store: options.store,
      refreshSkewMs: options.refreshSkewMs,
      now: options.now,
      logger: options.logger,
      grants: {
        refresh: (current) => refreshInstallationToken({ ...options, refreshToken: current.refreshToken }),
        recover: () => requestInstallationTokenWithJwt(options),
      },
    });
  }
}

function parseInstallationToken(body: unknown): Credentials {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { token, refreshToken, expiresAt } = record;
  const expiresAtMs = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (
    typeof token !== 'string' ||
    !token ||
    typeof refreshToken !== 'string' ||
    !refreshToken ||
    Number.isNaN(expiresAtMs)
  ) {
    throw new SentryAuthError(
      'invalid_token_response',
      'installation token response lacks token, refreshToken or expiresAt',
    );
  }
  return { accessToken: token, refreshToken, expiresAt: expiresAtMs };
}

function authorizationsUrl(app: Pick<InstallationApp, 'baseUrl' | 'installationUuid'>): string {
  return `${trimBase(app.baseUrl)}/api/0/sentry-app-installations/${encodeURIComponent(app.installationUuid)}/authorizations/`;
}

function transport(args: { fetch?: typeof fetch; timeoutMs?: number }): { fetch?: typeof fetch; timeoutMs?: number } {
  return { fetch: args.fetch, timeoutMs: args.timeoutMs };
}

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
