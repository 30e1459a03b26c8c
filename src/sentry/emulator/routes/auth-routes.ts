/**
 * Token endpoints:
 * - Sentry-app installations: POST /api/0/sentry-app-installations/{uuid}/authorizations/ with
 *   `authorization_code` or `refresh_token` (client_id + client_secret in the body), or the
 *   client-secret JWT grant (HS256 JWT signed with the client secret in `Authorization: Bearer`).
 *   Sentry names that grant `urn:sentry:params:oauth:grant-type:jwt-bearer`; the RFC 7523 name
 *   `urn:ietf:params:oauth:grant-type:jwt-bearer` is accepted too.
 * - OAuth 2.0 for user-authorized apps: GET /oauth/authorize/ and POST /oauth/token/.
 */
import { verifyHs256 } from '../jwt.js';
import { json, notFound, route, type Reply, type RequestContext, type Route } from '../router.js';
import type { EmulatorState } from '../state.js';
import type { AccessToken } from '../tokens.js';

export const JWT_BEARER_GRANTS = [
  'urn:sentry:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
];

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function required(body: Record<string, unknown>, fields: string[]): Reply | null {
  const missing = fields.filter((f) => !str(body[f]));
  return missing.length ? json(Object.fromEntries(missing.map((f) => [f, ['This field is required.']])), 400) : null;
}

/** Sentry's ApiTokenSerializer output for a token it just minted. */
function installationTokenBody(token: AccessToken, state: unknown): Record<string, unknown> {
  return {
    id: token.id,
    scopes: token.scopes,
    name: null,
    application: null,
    expiresAt: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString(),
    dateCreated: new Date(token.dateCreated).toISOString(),
    state: state ?? null,
    token: token.token,
    refreshToken: token.refreshToken,
  };
}

export function authRoutes(state: EmulatorState): Route[] {
  const { tokens, app } = state;
  const detail = (status: number, message: string) => json({ detail: message }, status);

  function exchangeForInstallation(ctx: RequestContext): Reply {
    const installation = state.installations.get(ctx.params.uuid);
    if (!installation) return notFound('Installation not found');
    const grantType = str(ctx.body.grant_type);

    if (grantType && JWT_BEARER_GRANTS.includes(grantType)) {
      const header = ctx.headers.authorization ?? '';
      if (!header.toLowerCase().startsWith('bearer ')) return detail(401, 'Header is in invalid form');
      const check = verifyHs256(header.slice(7).trim(), app.clientSecret, state.now());
      if (!check.ok) return detail(401, check.reason);
      if (check.claims.iss !== app.clientId) return detail(401, 'JWT is not valid for this application');
      if (!tokens.claimJwtId(check.claims.jti)) return detail(401, 'JWT has already been used');
      // The manual refresh replaces whatever token the installation had.
      tokens.revokeInstallation(installation.uuid);
      state.stats.refreshes += 1;
      return json(
        installationTokenBody(tokens.issue('installation', { installationUuid: installation.uuid }), ctx.body.state),
        201,
      );
    }

    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return detail(403, 'Invalid grant_type');
    const missing = required(ctx.body, [
      'client_id',
      'client_secret',
      grantType === 'authorization_code' ? 'code' : 'refresh_token',
    ]);
    if (missing) return missing;
    if (ctx.body.client_id !== app.clientId || ctx.body.client_secret !== app.clientSecret)
      return detail(401, 'Invalid Client ID / Secret pair');

    if (grantType === 'authorization_code') {
      const grant = tokens.consumeGrant(ctx.body.code as string);
      if (!grant || grant.installationUuid !== installation.uuid)
        return detail(401, 'Could not find grant for given code');
      return json(
        installationTokenBody(tokens.issue('installation', { installationUuid: installation.uuid }), ctx.body.state),
        201,
      );
    }
    const refreshed = tokens.refresh(ctx.body.refresh_token as string, installation.uuid);
    if (!refreshed) return detail(401, 'Given refresh token does not exist');
    state.stats.refreshes += 1;
    return json(installationTokenBody(refreshed, ctx.body.state), 201);
  }

  function updateInstallation(ctx: RequestContext): Reply {
    const installation = state.installations.get(ctx.params.uuid);
    if (!installation) return notFound('Installation not found');
    if (ctx.token?.installationUuid !== installation.uuid)
      return detail(403, 'You do not have permission to perform this action.');
    if (ctx.body.status !== 'installed')
      return json({ status: ["Invalid value 'status'. Only 'installed' is accepted."] }, 400);
    installation.status = 'installed';
    return json({
      app: { uuid: app.uuid, slug: app.slug },
      organization: { slug: state.store.data.organization.slug },
      uuid: installation.uuid,
      status: installation.status,
      code: null,
    });
  }

  function authorize(ctx: RequestContext): Reply {
    const params = ctx.url.searchParams;
    const redirectUri = params.get('redirect_uri');
    if (params.get('client_id') !== app.clientId) return json({ error: 'invalid_client' }, 400);
    if (params.get('response_type') !== 'code') return json({ error: 'unsupported_response_type' }, 400);
    if (!redirectUri) return json({ error: 'invalid_request' }, 400);
    // Consent is implied: the org owner approves instantly.
    const grant = tokens.createGrant({ userId: state.store.owner.id, redirectUri });
    const target = new URL(redirectUri);
    target.searchParams.set('code', grant.code);
    const oauthState = params.get('state');
    if (oauthState !== null) target.searchParams.set('state', oauthState);
    return { status: 302, headers: { Location: target.toString() } };
  }

  function oauthToken(ctx: RequestContext): Reply {
    const body = ctx.body;
    const grantType = str(body.grant_type);
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
      return json({ error: 'unsupported_grant_type' }, 400);
    if (body.client_id !== app.clientId || body.client_secret !== app.clientSecret)
      return json({ error: 'invalid_client' }, 401);

    let token: AccessToken | null;
    if (grantType === 'authorization_code') {
      const grant = str(body.code) ? tokens.consumeGrant(body.code as string) : null;
      if (!grant || grant.installationUuid !== null) return json({ error: 'invalid_grant' }, 400);
      if (grant.redirectUri && str(body.redirect_uri) && body.redirect_uri !== grant.redirectUri)
        return json({ error: 'invalid_grant' }, 400);
      token = tokens.issue('oauth', { userId: grant.userId ?? undefined });
    } else {
      token = str(body.refresh_token) ? tokens.refresh(body.refresh_token as string, null) : null;
      if (!token) return json({ error: 'invalid_grant' }, 400);
      state.stats.refreshes += 1;
    }
    const user = token.userId ? state.store.user(token.userId) : undefined;
    const now = state.now();
    return json({
      access_token: token.token,
      refresh_token: token.refreshToken,
      expires_in: token.expiresAt === null ? null : Math.round((token.expiresAt - now) / 1000),
      expires_at: token.expiresAt === null ? null : new Date(token.expiresAt).toISOString(),
      token_type: 'bearer',
      scope: token.scopes.join(' '),
      user: user ? { id: user.id, name: user.name, email: user.email } : null,
    });
  }

  return [
    route('POST', '/api/0/sentry-app-installations/:uuid/authorizations/', exchangeForInstallation, 'public'),
    route('PUT', '/api/0/sentry-app-installations/:uuid/', updateInstallation),
    route('GET', '/oauth/authorize/', authorize, 'public'),
    route('POST', '/oauth/token/', oauthToken, 'public'),
  ];
}
