import { afterEach, describe, expect, it } from 'vitest';
import { signClientSecretJwt, startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { api } from './helpers.js';

const ORG_PATH = '/api/0/organizations/acme/';

async function post(emu: Emulator, path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const authorizations = (uuid: string) => `/api/0/sentry-app-installations/${uuid}/authorizations/`;

describe('tokens and grants', () => {
  let emu: Emulator;
  let now = Date.parse('2025-06-01T12:00:00Z');
  afterEach(() => emu.close());

  async function start(tokenTtlSeconds = 3600) {
    now = Date.parse('2025-06-01T12:00:00Z');
    emu = await startEmulator({ issues: 10, tokenTtlSeconds, now: () => now });
  }

  async function installAndExchange() {
    const { uuid, code } = await emu.createInstallation();
    const res = await post(emu, authorizations(uuid), {
      grant_type: 'authorization_code',
      code,
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
    });
    return { uuid, code, res };
  }

  it('exchanges an installation code once for an expiring token', async () => {
    await start();
    const { uuid, code, res } = await installAndExchange();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      token: expect.any(String),
      refreshToken: expect.any(String),
      expiresAt: new Date(now + 3600_000).toISOString(),
      scopes: expect.any(Array),
    });
    expect((await api(emu, ORG_PATH, res.body.token as string)).status).toBe(200);

    const again = await post(emu, authorizations(uuid), {
      grant_type: 'authorization_code',
      code,
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
    });
    expect(again.status).toBe(401);

    const badSecret = await post(emu, authorizations(uuid), {
      grant_type: 'authorization_code',
      code: 'x',
      client_id: emu.clientId,
      client_secret: 'nope',
    });
    expect(badSecret.status).toBe(401);
    expect((await post(emu, authorizations(uuid), { grant_type: 'password' })).status).toBe(403);

    const installed = await fetch(`${emu.url}/api/0/sentry-app-installations/${uuid}/`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${res.body.token}` },
      body: JSON.stringify({ status: 'installed' }),
    });
    expect(await installed.json()).toMatchObject({ uuid, status: 'installed' });
  });

  it('expires tokens after the TTL with 401 Invalid token; the internal token never expires', async () => {
    await start(60);
    const { res } = await installAndExchange();
    const token = res.body.token as string;
    now += 59_000;
    expect((await api(emu, ORG_PATH, token)).status).toBe(200);
    now += 2_000;
    const expired = await api(emu, ORG_PATH, token);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ detail: 'Invalid token' });
    now += 365 * 86_400_000;
    expect((await api(emu, ORG_PATH)).status).toBe(200);
    expect((await api(emu, ORG_PATH, 'not-a-token')).status).toBe(401);
  });

  it('expireTokens() expires every current access token at once', async () => {
    await start();
    const { res } = await installAndExchange();
    emu.expireTokens();
    expect((await api(emu, ORG_PATH, res.body.token as string)).status).toBe(401);
    expect((await api(emu, ORG_PATH)).status).toBe(200);
  });

  it('accepts each refresh token once and revokes the token it replaced', async () => {
    await start();
    const { uuid, res } = await installAndExchange();
    const body = {
      grant_type: 'refresh_token',
      refresh_token: res.body.refreshToken as string,
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
    };
    emu.expireTokens();
    const refreshed = await post(emu, authorizations(uuid), body);
    expect(refreshed.status).toBe(201);
    expect(refreshed.body.token).not.toBe(res.body.token);
    expect(refreshed.body.refreshToken).not.toBe(res.body.refreshToken);
    expect((await api(emu, ORG_PATH, refreshed.body.token as string)).status).toBe(200);
    expect((await post(emu, authorizations(uuid), body)).status).toBe(401);
    expect(emu.stats.refreshes).toBe(1);
  });

  it('grants a token for a JWT signed with the client secret, once per JWT', async () => {
    await start();
    const { uuid, res } = await installAndExchange();
    const jwt = signClientSecretJwt(emu.clientId, emu.clientSecret, { nowMs: now });
    for (const grant of [
      'urn:sentry:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]) {
      const fresh = signClientSecretJwt(emu.clientId, emu.clientSecret, { nowMs: now });
      const ok = await post(emu, authorizations(uuid), { grant_type: grant }, { Authorization: `Bearer ${fresh}` });
      expect(ok.status).toBe(201);
      expect((await api(emu, ORG_PATH, ok.body.token as string)).status).toBe(200);
    }
    // The manual refresh replaced the code-exchanged token.
    expect((await api(emu, ORG_PATH, res.body.token as string)).status).toBe(401);

    const grant = { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' };
    expect((await post(emu, authorizations(uuid), grant, { Authorization: `Bearer ${jwt}` })).status).toBe(201);
    expect(await post(emu, authorizations(uuid), grant, { Authorization: `Bearer ${jwt}` })).toEqual({
      status: 401,
      body: { detail: 'JWT has already been used' },
    });
    const forged = signClientSecretJwt(emu.clientId, 'wrong-secret', { nowMs: now });
    expect((await post(emu, authorizations(uuid), grant, { Authorization: `Bearer ${forged}` })).status).toBe(401);
    const stale = signClientSecretJwt(emu.clientId, emu.clientSecret, { nowMs: now - 3600_000 });
    expect((await post(emu, authorizations(uuid), grant, { Authorization: `Bearer ${stale}` })).status).toBe(401);
  });

  it('runs the OAuth authorization-code flow with single-use refresh tokens', async () => {
    await start();
    const authorize = await fetch(
      `${emu.url}/oauth/authorize/?client_id=${emu.clientId}&response_type=code&redirect_uri=${encodeURIComponent('http://localhost:9/cb')}&state=xyz&scope=org:read`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(302);
    const location = new URL(authorize.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe('xyz');
    const code = location.searchParams.get('code')!;

    const form = (fields: Record<string, string>) =>
      fetch(`${emu.url}/oauth/token/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
    const tokenRes = await form({
      grant_type: 'authorization_code',
      code,
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      redirect_uri: 'http://localhost:9/cb',
    });
    const token = (await tokenRes.json()) as Record<string, unknown>;
    expect(token).toMatchObject({
      token_type: 'bearer',
      expires_in: 3600,
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      user: { id: emu.data.users[0].id },
    });
    expect((await api(emu, ORG_PATH, token.access_token as string)).status).toBe(200);
    expect(
      (await form({ grant_type: 'authorization_code', code, client_id: emu.clientId, client_secret: emu.clientSecret }))
        .status,
    ).toBe(400);

    const refresh = {
      grant_type: 'refresh_token',
      refresh_token: token.refresh_token as string,
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
    };
    const refreshed = (await (await form(refresh)).json()) as Record<string, unknown>;
    expect((await api(emu, ORG_PATH, refreshed.access_token as string)).status).toBe(200);
    expect((await api(emu, ORG_PATH, token.access_token as string)).status).toBe(401);
    expect((await form(refresh)).status).toBe(400);
  });
});
