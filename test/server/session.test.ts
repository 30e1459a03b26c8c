import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey, revokeApiKey, verifyApiKey } from '../../src/memory/api-keys.js';
import { createSession, SESSION_TTL_MS } from '../../src/memory/sessions.js';
import { agentHttp } from '../../src/server/agent-http.js';
import { LOCAL_HOSTNAMES } from '../../src/server/host-check.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';
import { rows, scalar } from '../helpers/database.js';
import { EPOCH } from '../helpers/emulator-memory.js';

let service: AgentService;
beforeAll(async () => {
  service = await startAgentService();
});
afterAll(async () => {
  await service.close();
});

const origin = () => service.url;

function signIn(apiKey: unknown, headers: Record<string, string> = {}) {
  return fetch(`${service.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: origin(), ...headers },
    body: JSON.stringify({ apiKey }),
  });
}

/** The session cookie a sign-in set, as `name=value`, and its attributes. */
function sessionCookie(res: Response): { pair: string; attributes: string[] } {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('sm_session='));
  expect(header).toBeDefined();
  const [pair, ...attributes] = header!.split(/;\s*/);
  return { pair, attributes };
}

function withCookie(path: string, cookie: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return fetch(`${service.url}${path}`, { ...init, headers: { cookie, ...init.headers } });
}

async function signedIn(key = service.keys.default) {
  const res = await signIn(key);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { workspaceId: string; expiresAt: string; csrfToken: string };
  return { ...body, cookie: sessionCookie(res).pair };
}

describe('dashboard sessions', () => {
  it('sign-in sets an httpOnly, SameSite=Strict cookie that works on /api/v1 like the key, and stores only its hash', async () => {
    const res = await signIn(service.keys.default, { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      workspaceId: DEFAULT_WORKSPACE,
      expiresAt: new Date(EPOCH + SESSION_TTL_MS).toISOString(),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const { pair, attributes } = sessionCookie(res);
    expect(attributes).toEqual(expect.arrayContaining(['Max-Age=43200', 'Path=/', 'HttpOnly', 'SameSite=Strict']));
    // Served over http, and the app does not trust proxies: a forwarded https does not make it Secure.
    expect(attributes).not.toContain('Secure');
    const token = pair.slice('sm_session='.length);
    const stored = JSON.stringify(await rows(service.runtime.store.db, 'SELECT * FROM dashboard_sessions'));
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(service.keys.default);
    expect(stored).not.toContain(body.csrfToken);

    expect(await (await withCookie('/api/v1/session', pair)).json()).toEqual(body);
    const status = await withCookie('/api/v1/status', pair);
    expect(status.status).toBe(200);
    expect((await status.json()).projects.map((p: { slug: string }) => p.slug)).toEqual(
      expect.arrayContaining(service.data.projects.map((p) => p.slug)),
    );
    // Bearer still works, and says it is no session.
    const bearer = await fetch(`${service.url}/api/v1/session`, {
      headers: { authorization: `Bearer ${service.keys.other}` },
    });
    expect(await bearer.json()).toEqual({ workspaceId: 'other', expiresAt: null, csrfToken: null });
  });

  it('is Secure when the request came over https as the server sees it (a proxy it trusts)', async () => {
    const app = Fastify({ trustProxy: true });
    await app.register(agentHttp, {
      db: service.runtime.store.db,
      allowedHostnames: LOCAL_HOSTNAMES,
      now: () => EPOCH,
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/session',
        headers: { host: 'localhost', 'x-forwarded-proto': 'https' },
        payload: { apiKey: service.keys.default },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['set-cookie']).toMatch(/; Secure/);
    } finally {
      await app.close();
    }
  });

  it('refuses a bad, unknown or revoked key, a cross-site sign-in, and requests without a session', async () => {
    const bad = await signIn(42);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/apiKey/);
    for (const key of ['nope', 'smk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']) {
      const res = await signIn(key);
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatch(/unknown or revoked/);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    const { key, info } = await createApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, 'revoked');
    await revokeApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, info.id);
    expect((await signIn(key)).status).toBe(401);
    expect((await signIn(service.keys.default, { origin: 'http://localhost:9999' })).status).toBe(403);
    expect((await signIn(service.keys.default, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const none = await fetch(`${service.url}/api/v1/status`);
    expect(none.status).toBe(401);
    expect((await none.json()).error).toMatch(/not signed in/);
    expect((await withCookie('/api/v1/status', 'sm_session=forged')).status).toBe(401);
  });

  it('sign-out needs the CSRF token and this origin; then the cookie is cleared and the session gone', async () => {
    const { cookie, csrfToken } = await signedIn();
    const signOut = (headers: Record<string, string>) =>
      withCookie('/api/v1/session', cookie, { method: 'DELETE', headers });
    const missing = await signOut({});
    expect(missing.status).toBe(403);
    expect((await missing.json()).error).toMatch(/missing x-csrf-token/);
    expect((await signOut({ 'x-csrf-token': csrfToken.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })).status).toBe(
      403,
    );
    const crossOrigin = await signOut({ 'x-csrf-token': csrfToken, origin: 'http://localhost:9999' });
    expect(crossOrigin.status).toBe(403);
    expect((await crossOrigin.json()).error).toMatch(/cross-site/);
    expect((await signOut({ 'x-csrf-token': csrfToken, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await withCookie('/api/v1/session', cookie)).status).toBe(200);

    const done = await signOut({ 'x-csrf-token': csrfToken, origin: origin(), 'sec-fetch-site': 'same-origin' });
    expect(done.status).toBe(204);
    expect(done.headers.getSetCookie().join()).toMatch(/^sm_session=;.*Max-Age=0/);
    expect((await withCookie('/api/v1/session', cookie)).status).toBe(401);
    // A Bearer request needs no CSRF token.
    const bearer = await fetch(`${service.url}/api/v1/session`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${service.keys.default}` },
    });
    expect(bearer.status).toBe(204);
  });

  it('revoking its key ends a session; an expired session is refused and deleted', async () => {
    const db = service.runtime.store.db;
    const { key, info } = await createApiKey(db, DEFAULT_WORKSPACE, 'dashboard');
    const { cookie } = await signedIn(key);
    expect((await withCookie('/api/v1/status', cookie)).status).toBe(200);
    await revokeApiKey(db, DEFAULT_WORKSPACE, info.id);
    expect((await withCookie('/api/v1/status', cookie)).status).toBe(401);

    const grant = (await verifyApiKey(db, service.keys.default))!;
    const { token } = await createSession(db, grant, EPOCH - SESSION_TTL_MS - 1);
    const count = () =>
      scalar<number>(
        db,
        'SELECT count(*) AS n FROM dashboard_sessions WHERE expires_at <= ?',
        new Date(EPOCH).toISOString(),
      );
    expect(Number(await count())).toBe(1);
    const expired = await withCookie('/api/v1/status', `sm_session=${token}`);
    expect(expired.status).toBe(401);
    expect((await expired.json()).error).toMatch(/session has ended/);
    expect(Number(await count())).toBe(0);
  });

  it("a session sees only its key's workspace on every dashboard endpoint", async () => {
    const other = await signedIn(service.keys.other);
    expect(other.workspaceId).toBe('other');
    const json = async (path: string) => {
      const res = await withCookie(path, other.cookie);
      return { status: res.status, body: await res.json() };
    };
    expect((await json('/api/v1/inbox')).body.items).toEqual([]);
    expect((await json('/api/v1/overview')).body.inbox.counts.processed).toBe(0);
    const chart = (await json('/api/v1/charts/events?interval=day&since=30d')).body;
    expect(chart.series.map((s: { project: string }) => s.project).sort()).toEqual(
      service.otherData.projects.map((p) => p.slug).sort(),
    );
    expect((await json('/api/v1/issues/FRONT-END-9/trend')).status).toBe(404);
    expect((await json('/api/v1/issues/FRONT-END-9')).status).toBe(404);
    const seq = (
      await (
        await fetch(`${service.url}/api/v1/inbox?limit=1`, {
          headers: { authorization: `Bearer ${service.keys.default}` },
        })
      ).json()
    ).items[0].seq;
    const retry = await withCookie(`/api/v1/inbox/${seq}/retry`, other.cookie, {
      method: 'POST',
      headers: { 'x-csrf-token': other.csrfToken },
    });
    expect(retry.status).toBe(404);
  });
});
