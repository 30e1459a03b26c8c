import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiLogger } from '../api/client.js';
import { sendAuthRequest } from './auth-http.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { SentryAuthError } from './errors.js';
import { RefreshingTokenProvider } from './refreshing-token-provider.js';
import { systemClock, type Clock } from '../../time.js';

/** Our registered OAuth application (Sentry partner OAuth). */
export interface OAuthApp {
  /** `https://sentry.io` or a self-hosted root. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: Clock;
}

/** A token pair plus what the user actually granted. */
export interface OAuthGrant extends Credentials {
  scopes: string[];
}

/** Where to send the user to approve access; `state` must come back unchanged to the redirect URI. */
export function buildAuthorizeUrl(args: {
  baseUrl: string;
  clientId: string;
  redirectUri: string;
  scopes: readonly string[];
  state: string;
}): string {
  const url = new URL(`${args.baseUrl.replace(/\/+$/, '')}/oauth/authorize/`);
  url.searchParams.set('client_id', args.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', args.scopes.join(' '));
  url.searchParams.set('redirect_uri', args.redirectUri);
  url.searchParams.set('state', args.state);
  return url.toString();
}

/** 256 random bits, URL-safe; keep it server-side (e.g. in the session) until the callback. */
export function createState(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of the stored and returned `state` (CSRF check on the callback). */
export function statesMatch(expected: string, received: string | null | undefined): boolean {
  if (!received) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function exchangeOAuthCode(app: OAuthApp & { code: string; redirectUri?: string }): Promise<OAuthGrant> {
  const body: Record<string, string> = {
    grant_type: 'authorization_code',
    code: app.code,
    client_id: app.clientId,
    client_secret: app.clientSecret,
  };
  if (app.redirectUri) body.redirect_uri = app.redirectUri;
  return parseOAuthToken(await postToTokenEndpoint(app, body), app.now ?? systemClock);
}

export async function refreshOAuthToken(app: OAuthApp & { refreshToken: string }): Promise<OAuthGrant> {
  const body = {
    grant_type: 'refresh_token',
    refresh_token: app.refreshToken,
    client_id: app.clientId,
    client_secret: app.clientSecret,
  };
  return parseOAuthToken(await postToTokenEndpoint(app, body), app.now ?? systemClock);
}

export interface OAuthTokenProviderOptions extends OAuthApp {
  store: CredentialStore;
  refreshSkewMs?: number;
  logger?: ApiLogger;
}

/** OAuth user tokens; refreshed with the refresh token (no recovery grant exists for these). */
export class OAuthTokenProvider extends RefreshingTokenProvider {
  constructor(options: OAuthTokenProviderOptions) {
    super({
      store: options.store,
      refreshSkewMs: options.refreshSkewMs,
      now: options.now,
      logger: options.logger,
      grants: { refresh: (current) => refreshOAuthToken({ ...options, refreshToken: current.refreshToken }) },
    });
  }
}

function postToTokenEndpoint(app: OAuthApp, body: Record<string, string>): Promise<unknown> {
  return sendAuthRequest({
    url: `${app.baseUrl.replace(/\/+$/, '')}/oauth/token/`,
    method: 'POST',
    encoding: 'form',
    body,
    fetch: app.fetch,
    timeoutMs: app.timeoutMs,
  });
}

function parseOAuthToken(body: unknown, now: () => number): OAuthGrant {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const {
    access_token: accessToken,
    refresh_token: refreshToken,
    expires_at: expiresAt,
    expires_in: expiresIn,
    scope,
  } = record;
  // Prefer the absolute expiry; fall back to the relative one.
  let expiresAtMs = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
  if (Number.isNaN(expiresAtMs) && typeof expiresIn === 'number') expiresAtMs = now() + expiresIn * 1000;
  if (
    typeof accessToken !== 'string' ||
    !accessToken ||
    typeof refreshToken !== 'string' ||
    !refreshToken ||
    Number.isNaN(expiresAtMs)
  ) {
    throw new SentryAuthError(
      'invalid_token_response',
      'OAuth token response lacks access_token, refresh_token or an expiry',
    );
  }
  return {
    accessToken,
    refreshToken,
    expiresAt: expiresAtMs,
    scopes: typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean) : [],
  };
}
