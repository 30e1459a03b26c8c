import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';

/**
 * Workspace A (default: an emulator org plus every Sentry fixture) and B ("other": another org whose
 * issue, project and release ids overlap A's). Everything is asked with B's key, including A's ids,
 * short ids, URLs, versions and cursors; no answer may hold anything only A has.
 */
let service: AgentService;
let clientB: Client;
let aOnly: string[];
beforeAll(async () => {
  service = await startAgentService();
  clientB = new Client({ name: 'workspace-b', version: '1.0.0' });
  await clientB.connect(
    new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${service.keys.other}` } },
    }),
  );
  const b = service.otherData;
  const inB = new Set([
    ...b.issues.flatMap((i) => [i.shortId, i.title]),
    ...b.releases.map((r) => r.version),
    ...b.projects.map((p) => p.slug),
  ]);
  const a = service.data;
  aOnly = [
    ...a.issues.flatMap((i) => [i.shortId, i.title]),
    ...a.releases.map((r) => r.version),
    ...a.projects.map((p) => p.slug),
    'blooopy',
    'FRONT-END-9',
    'heck is not defined',
  ].filter((s) => !inB.has(s) && ![...inB].some((t) => t.includes(s)));
});
afterAll(async () => {
  await clientB.close();
  await service.close();
});

/** `asked` is removed first: an answer may echo the question ("no issue \"X\" in memory"). */
function expectNothingOfA(what: string, answer: string, asked?: string): void {
  const rest = asked ? answer.replaceAll(asked, '').replaceAll(JSON.stringify(asked).slice(1, -1), '') : answer;
  const leaked = aOnly.filter((marker) => rest.includes(marker));
  expect(leaked, what).toEqual([]);
}

async function httpAsB(path: string): Promise<string> {
  const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${service.keys.other}` } });
  expect(response.status, path).toBeLessThan(500);
  return response.text();
}

async function mcpAsB(name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await clientB.callTool({ name, arguments: args })) as CallToolResult;
  return JSON.stringify(result);
}

describe("workspace isolation: B's key never reads A's data", () => {
  it('the markers are real: A sees them, and A and B share ids', async () => {
    expect(aOnly.length).toBeGreaterThan(50);
    const overlapping = service.otherData.issues.filter((i) => service.data.issues.some((a) => a.id === i.id));
    expect(overlapping.length).toBeGreaterThan(0);
    const asA = await (
      await fetch(`${service.url}/api/v1/search?q=blooopy`, {
        headers: { authorization: `Bearer ${service.keys.default}` },
      })
    ).text();
    expect(asA).toContain('FRONT-END-9');
  });

  it("every /api/v1 endpoint and MCP tool, asked for A's issues, releases and projects", async () => {
    const a = service.data;
    const issueRefs = [
      ...a.issues
        .slice(0, 60)
        .flatMap((i) => [i.id, i.shortId, `https://sentry.emulator.test/organizations/acme/issues/${i.id}/`]),
      '1170820242',
      'FRONT-END-9',
    ];
    for (const ref of issueRefs) {
      expectNothingOfA(`issue ${ref}`, await httpAsB(`/api/v1/issues/${encodeURIComponent(ref)}?format=markdown`), ref);
      expectNothingOfA(`issue ${ref}`, await httpAsB(`/api/v1/issues/${encodeURIComponent(ref)}`), ref);
      expectNothingOfA(`get_issue_context ${ref}`, await mcpAsB('get_issue_context', { issue: ref }), ref);
    }
    for (const release of a.releases) {
      expectNothingOfA(
        `release ${release.version}`,
        await httpAsB(`/api/v1/releases/${encodeURIComponent(release.version)}`),
        release.version,
      );
      expectNothingOfA(
        `get_release_context ${release.version}`,
        await mcpAsB('get_release_context', { version: release.version }),
        release.version,
      );
    }
    const words = [
      'blooopy',
      'heck',
      'TypeError',
      'error',
      ...a.projects.map((p) => p.slug),
      ...a.issues.slice(0, 20).map((i) => i.title),
    ];
    for (const q of words) {
      expectNothingOfA(
        `search ${q}`,
        await httpAsB(
          `/api/v1/search?q=${encodeURIComponent(q)}&kinds=issue,comment,insight,alert,observation&limit=50`,
        ),
        q,
      );
      expectNothingOfA(
        `search_memory ${q}`,
        await mcpAsB('search_memory', {
          query: q,
          kinds: ['issue', 'comment', 'insight', 'alert', 'observation'],
          limit: 50,
        }),
        q,
      );
    }
    for (const project of [undefined, ...a.projects.map((p) => p.slug)]) {
      const scope = project ? `&project=${project}` : '';
      expectNothingOfA(
        `timeline ${project}`,
        await httpAsB(`/api/v1/timeline?since=2000-01-01T00:00:00Z&limit=200${scope}`),
        project,
      );
      expectNothingOfA(
        `get_timeline ${project}`,
        await mcpAsB('get_timeline', { since: '2000-01-01T00:00:00Z', limit: 200, ...(project ? { project } : {}) }),
        project,
      );
    }
    expectNothingOfA('status', await httpAsB('/api/v1/status'));
    expectNothingOfA('get_memory_status', await mcpAsB('get_memory_status', {}));
  });

  it("cursors minted for A, replayed with B's key, give B's own data or an error", async () => {
    const asA = async (path: string) =>
      (await (
        await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${service.keys.default}` } })
      ).json()) as { nextCursor: string | null };
    const cursors = [
      (await asA('/api/v1/search?q=error&limit=1')).nextCursor,
      (await asA('/api/v1/search?q=checkout&limit=3')).nextCursor,
      (await asA('/api/v1/timeline?since=2000-01-01T00:00:00Z&limit=1')).nextCursor,
      (await asA('/api/v1/timeline?since=2000-01-01T00:00:00Z&limit=7')).nextCursor,
    ];
    expect(cursors.every(Boolean)).toBe(true);
    for (const cursor of cursors as string[]) {
      for (const path of [
        `/api/v1/search?q=error&cursor=${cursor}`,
        `/api/v1/search?q=checkout&cursor=${cursor}`,
        `/api/v1/timeline?since=2000-01-01T00:00:00Z&cursor=${cursor}`,
      ]) {
        expectNothingOfA(`${path}`, await httpAsB(path));
      }
      expectNothingOfA('search_memory cursor', await mcpAsB('search_memory', { query: 'error', cursor }));
      expectNothingOfA('get_timeline cursor', await mcpAsB('get_timeline', { since: '2000-01-01T00:00:00Z', cursor }));
    }
  });
});
