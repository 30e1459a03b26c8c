import { afterEach, describe, expect, it } from 'vitest';
import { SentryApiClient } from '../../src/sentry/api/index.js';
import {
  OAuthTokenProvider,
  SentryAuthError,
  buildAuthorizeUrl,
  createState,
  exchangeOAuthCode,
  refreshOAuthToken,
  statesMatch,
  type CredentialStore,
  type Credentials,
} from '../../src/sentry/auth/index.js';
import { bearerOf, delay, sendJson, startServer, type Handler, type TestServer } from '../api/http-server.js';

const app = { clientId: 'oauth-client', clientSecret: 'oauth-secret-do-not-leak' };

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: Handler) {
  server = await startServer(handler);
  return server;
}

function tokenResponse(n: number) {
  return {
    access_token: `oauth-access-${n}`,
    refresh_token: `oauth-refresh-${n}`,
    expires_in: 28_800,
    expires_at: new Date(Date.now() + 28_800_000).toISOString(),
    token_type: 'bearer',
    scope: 'org:read project:read',
    user: { id: '2', name: 'user 1', email: 'user1@test.com' },
  };
}

describe('authorize URL and state', () => {
  it('builds the authorize URL with code flow, space-separated scopes and state', () => {
    const url = new URL(
      buildAuthorizeUrl({
        baseUrl: 'https://sentry.io/',
        clientId: app.clientId,
        redirectUri: 'https://memory.example/callback',
        scopes: ['org:read', 'event:read'],
        state: 'abc',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://sentry.io/oauth/authorize/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: app.clientId,
      response_type: 'code',
      scope: 'org:read event:read',
      redirect_uri: 'https://memory.example/callback',
      state: 'abc',
    });
  });

  it('creates unguessable states and checks them exactly', () => {
    const states = new Set(Array.from({ length: 50 }, createState));
    expect(states.size).toBe(50);
    const state = createState();
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statesMatch(state, state)).toBe(true);
    expect(statesMatch(state, `${state}x`)).toBe(false);
    expect(statesMatch(state, null)).toBe(false);
  });
});

describe('token endpoint', () => {
  it('exchanges a code with a form-encoded POST to /oauth/token/', async () => {
    const s = await serve((req, res) => sendJson(res, 200, tokenResponse(1)));
    const grant = await exchangeOAuthCode({
      ...app,
      baseUrl: s.url,
      code: 'the-code',
      redirectUri: 'https://memory.example/cb',
    });
    expect(grant).toMatchObject({
      accessToken: 'oauth-access-1',
      refreshToken: 'oauth-refresh-1',
      scopes: ['org:read', 'project:read'],
    });
    const request = s.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/oauth/token/');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      redirect_uri: 'https://memory.example/cb',
    });
  });

  it('refreshes with grant_type=refresh_token and falls back to expires_in', async () => {
    const s = await serve((req, res) => {
      const { expires_at: _omit, ...rest } = tokenResponse(2);
      sendJson(res, 200, rest);
    });
    const grant = await refreshOAuthToken({
      ...app,
      baseUrl: s.url,
      refreshToken: 'oauth-refresh-1',
      now: () => 1_000,
    });
    expect(grant.expiresAt).toBe(1_000 + 28_800_000);
    expect(new URLSearchParams(s.requests[0]!.body).get('grant_type')).toBe('refresh_token');
    expect(new URLSearchParams(s.requests[0]!.body).get('refresh_token')).toBe('oauth-refresh-1');
  });

  it('never puts secrets into errors, even when the server echoes them', async () => {
    const s = await serve((req, res) => {
      if (req.body.includes('bad-json')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end(`{access_token: ${app.clientSecret}`);
      }
      sendJson(res, 400, { error: 'invalid_grant', refresh: 'oauth-refresh-1', secret: app.clientSecret });
    });
    const rejected = await refreshOAuthToken({ ...app, baseUrl: s.url, refreshToken: 'oauth-refresh-1' }).catch(
      (e: unknown) => e,
    );
    expect(rejected).toMatchObject({ kind: 'client', status: 400, detail: 'invalid_grant' });
    const garbled = await exchangeOAuthCode({ ...app, baseUrl: s.url, code: 'bad-json' }).catch((e: unknown) => e);
    expect(garbled).toBeInstanceOf(SentryAuthError);
    for (const error of [rejected, garbled]) {
      const rendered = `${String(error)}\n${(error as Error).stack}\n${JSON.stringify(error)}`;
      expect(rendered).not.toContain(app.clientSecret);
      expect(rendered).not.toContain('oauth-refresh-1');
    }
  });
});

describe('OAuthTokenProvider', () => {
  class MemoryStore implements CredentialStore {
    saves: string[] = [];
    constructor(private value: Credentials | null) {}
    async load() {
      return this.value;
    }
    async save(credentials: Credentials) {
      this.saves.push(credentials.accessToken);
      this.value = credentials;
    }
  }

  async function oauthSentry(rejectRefresh = false) {
    let serial = 0;
    let valid = 'expired-access';
    const counts = { refresh: 0 };
    const s = await serve(async (req, res) => {
      if (req.url === '/oauth/token/') {
        counts.refresh++;
        await delay(30);
        if (rejectRefresh) return sendJson(res, 400, { error: 'invalid_grant' });
        const body = tokenResponse(++serial);
        valid = body.access_token;
        return sendJson(res, 200, body);
      }
      if (bearerOf(req) !== valid) return sendJson(res, 401, { detail: 'Invalid token' });
      sendJson(res, 200, { ok: true });
    });
    return { s, counts };
  }

  it('shares the single-flight, persist-first refresh with installations', async () => {
    const { s, counts } = await oauthSentry();
    const store = new MemoryStore({ accessToken: 'expired-access', refreshToken: 'r0', expiresAt: Date.now() - 1 });
    const tokens = new OAuthTokenProvider({ ...app, baseUrl: s.url, store });
    const client = new SentryApiClient({ baseUrl: s.url, tokens });
    await Promise.all([client.get('/api/0/organizations/'), client.get('/api/0/projects/')]);
    expect(counts.refresh).toBe(1);
    expect(store.saves).toEqual(['oauth-access-1']);
  });

  it('turns a rejected refresh into connection_broken', async () => {
    const { s } = await oauthSentry(true);
    const store = new MemoryStore({ accessToken: 'expired-access', refreshToken: 'r0', expiresAt: Date.now() - 1 });
    const client = new SentryApiClient({
      baseUrl: s.url,
      tokens: new OAuthTokenProvider({ ...app, baseUrl: s.url, store }),
    });
    await expect(client.get('/api/0/organizations/')).rejects.toMatchObject({
      name: 'SentryAuthError',
      kind: 'connection_broken',
    });
  });
});
