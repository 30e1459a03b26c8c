import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../../src/memory/api-keys.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';
import { rows } from '../helpers/database.js';

let service: AgentService;
beforeAll(async () => {
  service = await startAgentService();
});
afterAll(async () => {
  await service.close();
});

function get(path: string, key: string | null = service.keys.default, headers: Record<string, string> = {}) {
  return fetch(`${service.url}${path}`, {
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
  });
}

/** fetch cannot set Host; DNS rebinding is about exactly that header. */
function withHost(path: string, host: string, key: string): Promise<number> {
  const url = new URL(`${service.url}${path}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, headers: { host, authorization: `Bearer ${key}` } },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('/api/v1 with API keys', () => {
  it('answers every capability as JSON from the real data', async () => {
    const issue = service.data.issues.find((i) => i.count > 100)!;
    const search = await (
      await get(
        `/api/v1/search?q=${encodeURIComponent(issue.metadata.value)}&project=${issue.shortId.split('-').slice(0, -1).join('-')}&kinds=issue&limit=5`,
      )
    ).json();
    expect(search.hits.map((h: { issueId: string }) => h.issueId)).toContain(issue.id);
    const context = await (await get(`/api/v1/issues/${issue.shortId}`)).json();
    expect(context).toMatchObject({
      id: issue.id,
      count: issue.count,
      userCount: issue.userCount,
      firstRelease: issue.firstRelease,
    });
    const release = service.data.releases[0];
    const releaseAnswer = await (await get(`/api/v1/releases/${encodeURIComponent(release.version)}`)).json();
    expect(releaseAnswer.deploys.length).toBe(release.deploys.length);
    const timeline = await (
      await get('/api/v1/timeline?since=2026-11-01T00:00:00Z&until=2026-11-20T00:00:00Z&kinds=new&limit=5')
    ).json();
    expect(timeline.counts.new).toBe(
      service.data.issues.filter((i) => i.firstSeen >= '2026-11-01T00:00:00Z' && i.firstSeen < '2026-11-20T00:00:00Z')
        .length,
    );
    expect(timeline.items).toHaveLength(5);
    const status = await (await get('/api/v1/status')).json();
    expect(status.freshness.lastWebhookAt).toEqual(expect.any(String));
    const markdown = await get(`/api/v1/issues/${issue.id}?format=markdown`);
    expect(markdown.headers.get('content-type')).toMatch(/text\/markdown/);
    expect(await markdown.text()).toContain(`## ${issue.shortId}:`);
  });

  it('bad input is 400 and unknown things 404, with a message that says what to change', async () => {
    const badLimit = await get('/api/v1/search?q=error&limit=ten');
    expect(badLimit.status).toBe(400);
    expect((await badLimit.json()).error).toMatch(/limit/);
    const unknownParam = await get('/api/v1/search?q=error&colour=red');
    expect(unknownParam.status).toBe(400);
    expect((await get('/api/v1/search')).status).toBe(400);
    const then = await get(`/api/v1/issues/FRONT-END-9?asOf=2020-01-01T00:00:00.000Z`);
    expect(await then.json()).toMatchObject({ id: '1170820242', asOf: { at: '2020-01-01T00:00:00.000Z' } });
    const tooEarly = await get('/api/v1/issues/FRONT-END-9?asOf=2019-01-01T00:00:00.000Z');
    expect(tooEarly.status).toBe(400);
    expect((await tooEarly.json()).error).toMatch(/did not exist yet at 2019-01-01T00:00:00.000Z/);
    expect((await get('/api/v1/issues/FRONT-END-9?asOf=last-tuesday')).status).toBe(400);
    const missing = await get('/api/v1/issues/NOPE-1');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatch(/no issue "NOPE-1"/);
    expect((await get('/api/v1/releases/nope@1.0.0')).status).toBe(404);
  });

  it('401 without a key, with a malformed, unknown or revoked key', async () => {
    for (const key of [null, 'not-a-key', 'smk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']) {
      const res = await get('/api/v1/status', key);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const { key, info } = await createApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, 'to revoke');
    expect((await get('/api/v1/status', key)).status).toBe(200);
    expect(await revokeApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, info.id)).toBe(true);
    expect((await get('/api/v1/status', key)).status).toBe(401);
    const mcp = await fetch(`${service.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(mcp.status).toBe(401);
  });

  it('only the hash of a key is stored', async () => {
    const stored = JSON.stringify(await rows(service.runtime.store.db, 'SELECT * FROM api_keys'));
    expect(stored).not.toContain(service.keys.default);
    expect(stored).not.toContain(service.keys.default.slice('smk_'.length + 13));
    expect((await listApiKeys(service.runtime.store.db, DEFAULT_WORKSPACE)).length).toBeGreaterThan(0);
  });

  it("a key never returns another workspace's records", async () => {
    const fixture = await (await get('/api/v1/search?q=blooopy', service.keys.other)).json();
    expect(fixture.hits).toEqual([]);
    expect((await get('/api/v1/issues/FRONT-END-9', service.keys.other)).status).toBe(404);
    const otherProjects = (await (await get('/api/v1/status', service.keys.other)).json()).projects.map(
      (p: { slug: string }) => p.slug,
    );
    expect(otherProjects).toEqual(service.otherData.projects.map((p) => p.slug).sort());
    const otherIssue = service.otherData.issues[0];
    const seen = await (await get(`/api/v1/issues/${otherIssue.id}`, service.keys.other)).json();
    expect(seen).toMatchObject({ title: otherIssue.title, count: otherIssue.count });
    for (const hit of (await (await get('/api/v1/search?q=error&limit=50', service.keys.other)).json()).hits) {
      expect(service.otherData.issues.map((i) => i.id)).toContain(hit.issueId);
    }
  });

  it('DNS rebinding: a foreign Host or Origin is refused before anything else', async () => {
    expect(await withHost('/api/v1/status', 'evil.example', service.keys.default)).toBe(403);
    expect(await withHost('/mcp', 'evil.example:80', service.keys.default)).toBe(403);
    expect(await withHost('/api/v1/status', `localhost:${new URL(service.url).port}`, service.keys.default)).toBe(200);
    expect((await get('/api/v1/status', service.keys.default, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get('/api/v1/status', service.keys.default, { origin: 'http://localhost:3000' })).status).toBe(200);
  });
});
