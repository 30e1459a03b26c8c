import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SentryApiClient } from '../../src/sentry/api/index.js';
import {
  CLIENT_SECRET_JWT_GRANT,
  InstallationTokenProvider,
  SentryAuthError,
  completeInstallation,
  type CredentialStore,
  type Credentials,
} from '../../src/sentry/auth/index.js';
import { bearerOf, delay, sendJson, startServer, type RecordedRequest, type TestServer } from '../api/http-server.js';

const UUID = 'c4f0f0a8-7d3c-4a3f-9d9b-3f2a1e0c9b11';
const CLIENT_ID = 'client-id-123';
const CLIENT_SECRET = 'client-secret-do-not-leak';
const AUTH_PATH = `/api/0/sentry-app-installations/${UUID}/authorizations/`;
const HOUR = 3_600_000;

/** Records every save in the shared event log, so tests can check ordering against requests. */
class RecordingStore implements CredentialStore {
  saved: Credentials[] = [];
  constructor(
    private credentials: Credentials | null,
    private readonly events: string[],
  ) {}
  async load() {
    return this.credentials;
  }
  async save(credentials: Credentials) {
    this.events.push(`save:${credentials.accessToken}`);
    this.saved.push(credentials);
    this.credentials = credentials;
  }
}

type Behaviour = 'ok' | 'drop' | 'reject';

/**
 * A tiny stand-in for Sentry: the installation authorizations endpoint (code,
 * refresh and client-secret-JWT grants, with rotating refresh tokens) and one
 * API endpoint that accepts only the current access token.
 */
async function fakeSentry(options: {
  refresh?: Behaviour;
  jwt?: Behaviour;
  initial: Credentials;
  refreshDelayMs?: number;
}) {
  const events: string[] = [];
  const grants: Record<string, number> = {};
  const jwtRequests: RecordedRequest[] = [];
  let serial = 0;
  let valid = { access: options.initial.accessToken, refresh: options.initial.refreshToken };
  const issue = () => {
    serial++;
    valid = { access: `access-${serial}`, refresh: `refresh-${serial}` };
    return {
      id: String(serial),
      token: valid.access,
      refreshToken: valid.refresh,
      dateCreated: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 8 * HOUR).toISOString(),
      state: null,
      application: null,
    };
  };
  const server = await startServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === AUTH_PATH && req.method === 'POST') {
      const body = JSON.parse(req.body) as Record<string, string>;
      const grant = body.grant_type ?? '';
      grants[grant] = (grants[grant] ?? 0) + 1;
      events.push(`grant:${grant}`);
      if (grant === 'authorization_code') return sendJson(res, 201, issue());
      if (grant === 'refresh_token') {
        if (options.refreshDelayMs) await delay(options.refreshDelayMs);
        if (body.refresh_token !== valid.refresh || options.refresh === 'reject') {
          return sendJson(res, 401, { detail: 'Invalid refresh token' });
        }
        const token = issue(); // consumed on Sentry's side...
        if (options.refresh === 'drop') return void res.socket?.destroy(); // ...but the answer is lost
        return sendJson(res, 201, token);
      }
      if (grant === CLIENT_SECRET_JWT_GRANT) {
        jwtRequests.push(req);
        if (options.jwt === 'reject' || !verifyJwt(bearerOf(req))) return sendJson(res, 401, { detail: 'Invalid JWT' });
        if (options.jwt === 'drop') return void res.socket?.destroy();
        return sendJson(res, 201, issue());
      }
      return sendJson(res, 403, { detail: 'Invalid grant_type' });
    }
    if (path === `/api/0/sentry-app-installations/${UUID}/` && req.method === 'PUT') {
      events.push(`verify:${bearerOf(req)}`);
      return sendJson(res, 200, { status: JSON.parse(req.body).status });
    }
    events.push(`api:${bearerOf(req)}`);
    if (bearerOf(req) !== valid.access) return sendJson(res, 401, { detail: 'Invalid token' });
    sendJson(res, 200, { ok: true });
  });
  return { server, events, grants, jwtRequests };
}

function verifyJwt(token: string | null): boolean {
  if (!token) return false;
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return false;
  const expected = createHmac('sha256', CLIENT_SECRET).update(`${header}.${payload}`).digest('base64url');
  return expected === signature;
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function setup(sentry: Awaited<ReturnType<typeof fakeSentry>>, initial: Credentials) {
  server = sentry.server;
  const store = new RecordingStore(initial, sentry.events);
  const app = { baseUrl: sentry.server.url, installationUuid: UUID, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
  const tokens = new InstallationTokenProvider({ ...app, store, timeoutMs: 2_000 });
  const client = new SentryApiClient({ baseUrl: sentry.server.url, tokens, maxRetries: 0 });
  return { store, tokens, client };
}

const expired: Credentials = {
  accessToken: 'stale-access',
  refreshToken: 'stale-refresh',
  expiresAt: Date.now() - 1000,
};
const fresh: Credentials = {
  accessToken: 'stale-access',
  refreshToken: 'stale-refresh',
  expiresAt: Date.now() + 4 * HOUR,
};

describe('InstallationTokenProvider', () => {
  it('uses a token that is not near expiry without refreshing', async () => {
    const sentry = await fakeSentry({ initial: fresh });
    const { client } = setup(sentry, fresh);
    await client.get('/api/0/organizations/acme/');
    expect(sentry.grants).toEqual({});
  });

  it('refreshes within the skew before expiry', async () => {
    const soon = { ...fresh, expiresAt: Date.now() + 60_000 };
    const sentry = await fakeSentry({ initial: soon });
    const { client, store } = setup(sentry, soon);
    await client.get('/api/0/organizations/acme/');
    expect(sentry.grants).toEqual({ refresh_token: 1 });
    expect(store.saved.map((c) => c.accessToken)).toEqual(['access-1']);
  });

  it('shares ONE refresh between concurrent requests on an expired token', async () => {
    const sentry = await fakeSentry({ initial: expired, refreshDelayMs: 50 });
    const { client } = setup(sentry, expired);
    const results = await Promise.all([
      client.get('/api/0/organizations/acme/'),
      client.get('/api/0/organizations/acme/projects/'),
      client.get('/api/0/organizations/acme/teams/'),
    ]);
    expect(results.every((r) => (r.data as { ok: boolean }).ok)).toBe(true);
    expect(sentry.grants).toEqual({ refresh_token: 1 });
  });

  it('persists the new pair before any request uses it', async () => {
    const sentry = await fakeSentry({ initial: expired });
    const { client } = setup(sentry, expired);
    await client.get('/api/0/organizations/acme/');
    expect(sentry.events).toEqual(['grant:refresh_token', 'save:access-1', 'api:access-1']);
  });

  it('on 401 refreshes exactly once and retries once', async () => {
    // Sentry revoked the access token early; our clock still thinks it is valid.
    const sentry = await fakeSentry({ initial: { ...fresh, accessToken: 'server-side-other' } });
    const { client } = setup(sentry, fresh);
    await client.get('/api/0/organizations/acme/');
    expect(sentry.grants).toEqual({ refresh_token: 1 });
    expect(sentry.events).toEqual(['api:stale-access', 'grant:refresh_token', 'save:access-1', 'api:access-1']);
  });

  it('recovers with the client-secret JWT grant when the refresh response is lost', async () => {
    const sentry = await fakeSentry({ initial: expired, refresh: 'drop' });
    const { client, store } = setup(sentry, expired);
    await expect(client.get('/api/0/organizations/acme/')).resolves.toMatchObject({ data: { ok: true } });
    expect(sentry.grants).toEqual({ refresh_token: 1, [CLIENT_SECRET_JWT_GRANT]: 1 });
    expect(store.saved.map((c) => c.accessToken)).toEqual(['access-2']);
    expect(sentry.events.slice(-2)).toEqual(['save:access-2', 'api:access-2']);

    // The assertion Sentry documents: HS256, iss = sub = client id, short-lived, unique jti; body carries only the grant.
    const request = sentry.jwtRequests[0]!;
    expect(JSON.parse(request.body)).toEqual({ grant_type: 'urn:sentry:params:oauth:grant-type:jwt-bearer' });
    const [header, payload] = bearerOf(request)!
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ iss: CLIENT_ID, sub: CLIENT_ID });
    expect(payload.exp - payload.iat).toBe(60);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(5);
  });

  it('recovers when a previous run lost the response and the stored refresh token is already spent', async () => {
    const sentry = await fakeSentry({ initial: { ...expired, refreshToken: 'rotated-elsewhere' } });
    const { client } = setup(sentry, expired);
    await client.get('/api/0/organizations/acme/');
    expect(sentry.grants).toEqual({ refresh_token: 1, [CLIENT_SECRET_JWT_GRANT]: 1 });
  });

  it('declares the connection broken when both grants are rejected, without leaking secrets', async () => {
    const sentry = await fakeSentry({ initial: expired, refresh: 'reject', jwt: 'reject' });
    const { client, store } = setup(sentry, expired);
    const error = await client.get('/api/0/organizations/acme/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentryAuthError);
    expect(error).toMatchObject({ kind: 'connection_broken' });
    expect(store.saved).toEqual([]);
    const rendered = [
      String(error),
      (error as Error).stack,
      String((error as Error).cause),
      JSON.stringify(error),
    ].join('\n');
    for (const secret of [CLIENT_SECRET, 'stale-access', 'stale-refresh']) expect(rendered).not.toContain(secret);
  });

  it('surfaces a transient recovery failure as retryable, not broken', async () => {
    const sentry = await fakeSentry({ initial: expired, refresh: 'drop', jwt: 'drop' });
    const { client } = setup(sentry, expired);
    await expect(client.get('/api/0/organizations/acme/')).rejects.toMatchObject({ kind: 'network' });
  });

  it('reports not_connected when nothing is stored', async () => {
    const sentry = await fakeSentry({ initial: fresh });
    server = sentry.server;
    const tokens = new InstallationTokenProvider({
      baseUrl: sentry.server.url,
      installationUuid: UUID,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      store: new RecordingStore(null, []),
    });
    await expect(tokens.getToken()).rejects.toMatchObject({ kind: 'not_connected' });
  });
});

describe('completeInstallation', () => {
  it('exchanges the code, saves the pair, then marks the installation installed', async () => {
    const sentry = await fakeSentry({ initial: fresh });
    server = sentry.server;
    const store = new RecordingStore(null, sentry.events);
    const credentials = await completeInstallation({
      baseUrl: sentry.server.url,
      installationUuid: UUID,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      code: 'grant-code',
      store,
    });
    expect(credentials).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    expect(credentials.expiresAt).toBeGreaterThan(Date.now() + 7 * HOUR);
    expect(sentry.events).toEqual(['grant:authorization_code', 'save:access-1', 'verify:access-1']);
    const exchange = JSON.parse(sentry.server.requests[0]!.body);
    expect(exchange).toEqual({
      grant_type: 'authorization_code',
      code: 'grant-code',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(sentry.server.requests[1]!.body).toBe('{"status":"installed"}');
  });
});
