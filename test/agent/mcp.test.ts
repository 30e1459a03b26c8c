import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/agent/budget.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';
import { repoRoot } from '../helpers/cli.js';

let service: AgentService;
beforeAll(async () => {
  service = await startAgentService();
});
afterAll(async () => {
  await service.close();
});

const TOOLS = ['search_memory', 'get_issue_context', 'get_timeline', 'get_release_context', 'get_memory_status'];

async function connect(transport: 'stdio' | 'http', key = service.keys.default): Promise<Client> {
  const client = new Client({ name: 'sentry-memory-test', version: '1.0.0' });
  if (transport === 'stdio') {
    await client.connect(new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'mcp', '--db', service.location], cwd: repoRoot, stderr: 'pipe' }));
  } else {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  }
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const text = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe.each(['stdio', 'http'] as const)('MCP over %s, with the official SDK client', (transport) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(transport);
  });
  afterAll(async () => {
    await client.close();
  });

  it('lists the five tools with descriptions, input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description!.length).toBeGreaterThan(80);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBe(true);
    }
  });

  it('search_memory → get_issue_context: the fixture issue, with its comment-free context and Seer analysis', async () => {
    const search = await call(client, 'search_memory', { query: 'blooopy' });
    expect(search.isError).toBeFalsy();
    const hit = (search.structuredContent as { hits: { issueId: string; shortId: string }[] }).hits[0];
    expect(hit).toMatchObject({ issueId: '1170820242', shortId: 'FRONT-END-9' });
    expect(text(search)).toContain('FRONT-END-9');
    const issue = await call(client, 'get_issue_context', { issue: hit.shortId });
    expect(issue.structuredContent).toMatchObject({ id: '1170820242', title: 'ReferenceError: blooopy is not defined', project: 'front-end', status: 'unresolved', count: 1, userCount: 1 });
    const seer = (issue.structuredContent as { seer: { stage: string; state: string }[] }).seer;
    expect(seer.map((s) => s.stage)).toEqual(expect.arrayContaining(['root_cause', 'solution', 'coding']));
    expect(text(issue)).toMatch(/^## FRONT-END-9: ReferenceError: blooopy is not defined/);
  });

  it('get_issue_context on an emulator issue: counts, releases and assignee as Sentry has them', async () => {
    const issue = service.data.issues.find((i) => i.assignedTo?.type === 'user' && i.count > 50)!;
    const result = await call(client, 'get_issue_context', { issue: issue.id });
    const user = service.data.users.find((u) => u.id === issue.assignedTo!.id)!;
    expect(result.structuredContent).toMatchObject({ id: issue.id, shortId: issue.shortId, count: issue.count, userCount: issue.userCount, firstRelease: issue.firstRelease, assignee: { name: user.name } });
  });

  it('get_timeline, get_release_context and get_memory_status answer from the same data', async () => {
    const release = service.data.releases.find((r) => service.data.issues.some((i) => i.firstRelease === r.version))!;
    const timeline = await call(client, 'get_timeline', { since: '2026-11-13T00:00:00Z', until: '2026-11-20T00:00:00Z', kinds: ['deploy'] });
    const deploys = service.data.releases.flatMap((r) => r.deploys).filter((d) => d.dateFinished >= '2026-11-13T00:00:00Z' && d.dateFinished < '2026-11-20T00:00:00Z');
    expect((timeline.structuredContent as { counts: Record<string, number> }).counts.deploy).toBe(deploys.length);
    const releaseAnswer = await call(client, 'get_release_context', { version: release.version });
    expect((releaseAnswer.structuredContent as { newIssues: { total: number } }).newIssues.total).toBe(service.data.issues.filter((i) => i.firstRelease === release.version).length);
    const status = await call(client, 'get_memory_status', {});
    const projects = (status.structuredContent as { projects: { slug: string }[] }).projects.map((p) => p.slug);
    expect(projects).toEqual(expect.arrayContaining([...service.data.projects.map((p) => p.slug), 'front-end']));
  });

  it('answers fit the token budget; what is cut is named, with a cursor to continue', async () => {
    const big = await call(client, 'search_memory', { query: 'error', limit: 50, maxTokens: 400 });
    expect(estimateTokens(text(big))).toBeLessThanOrEqual(400);
    const content = big.structuredContent as { hits: { id: string }[]; nextCursor: string; truncated: { omitted: { results: number } } };
    expect(content.truncated.omitted.results).toBeGreaterThan(0);
    const next = await call(client, 'search_memory', { query: 'error', limit: 50, maxTokens: 400, cursor: content.nextCursor });
    const nextIds = (next.structuredContent as { hits: { id: string }[] }).hits.map((h) => h.id);
    expect(nextIds.some((id) => content.hits.some((h) => h.id === id))).toBe(false);
    const busy = service.data.issues.find((i) => i.activity.filter((a) => a.type === 'note').length >= 2)!;
    const small = await call(client, 'get_issue_context', { issue: busy.id, maxTokens: 200 });
    expect(estimateTokens(text(small))).toBeLessThanOrEqual(200);
    expect(text(small)).toContain(busy.shortId);
    expect((small.structuredContent as { truncated: { hint: string } }).truncated.hint).toMatch(/maxTokens/);
  });

  it('bad input comes back as a tool error that says what to change', async () => {
    const unknown = await call(client, 'get_issue_context', { issue: 'NOPE-1' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/no issue "NOPE-1" in memory/);
    const badLimit = await call(client, 'search_memory', { query: 'error', limit: 500 });
    expect(badLimit.isError).toBe(true);
    expect(text(badLimit)).toMatch(/limit/);
    const badTime = await call(client, 'get_timeline', { since: 'yesterday-ish' });
    expect(text(badTime)).toMatch(/since must be an ISO date\/time or a duration/);
  });
});

describe('MCP over HTTP: keys and workspaces', () => {
  it('a key of another workspace sees only that workspace, even for ids both hold', async () => {
    const client = await connect('http', service.keys.other);
    try {
      const blooopy = await call(client, 'search_memory', { query: 'blooopy' });
      expect((blooopy.structuredContent as { hits: unknown[] }).hits).toEqual([]);
      const shared = service.otherData.issues.find((i) => service.data.issues.some((d) => d.id === i.id));
      const id = shared?.id ?? service.data.issues[0].id;
      const result = await call(client, 'get_issue_context', { issue: id });
      if (shared) expect(result.structuredContent).toMatchObject({ id, title: shared.title, shortId: shared.shortId });
      else expect(result.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('without a valid key the transport fails with 401', async () => {
    await expect(connect('http', 'smk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).rejects.toMatchObject({ code: 401 });
  });
});
