import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startAgentService, text, type AgentService } from '../helpers/agent-service.js';
import { repoRoot } from '../helpers/cli.js';

let service: AgentService;
beforeAll(async () => {
  service = await startAgentService();
});
afterAll(async () => {
  await service.close();
});

const TOOLS = [
  'search_memory',
  'get_issue_context',
  'get_issue_tags',
  'find_related_issues',
  'get_timeline',
  'get_release_context',
  'get_memory_status',
];

async function connect(transport: 'stdio' | 'http', key = service.keys.default): Promise<Client> {
  const client = new Client({ name: 'sentry-memory-test', version: '1.0.0' });
  if (transport === 'stdio') {
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', resolve(repoRoot, 'src/cli/main.ts'), 'mcp', '--db', service.location],
        cwd: repoRoot,
        stderr: 'pipe',
      }),
    );
  } else {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${key}` } },
      }),
    );
  }
  return client;
}

describe.each(['stdio', 'http'] as const)('MCP over %s, with the official SDK client', (transport) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(transport);
  });
  afterAll(async () => {
    await client.close();
  });

  it('lists the tools with descriptions, input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.description!.length).toBeGreaterThan(80);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations?.readOnlyHint).toBe(true);
    }
  });

  it('carries markdown, structured answers and tool errors (each tool has its own tests in tools/)', async () => {
    const search = await call(client, 'search_memory', { query: 'blooopy' });
    expect(search.isError).toBeFalsy();
    const hit = (search.structuredContent as { hits: { issueId: string; shortId: string }[] }).hits[0];
    expect(hit).toMatchObject({ issueId: '1170820242', shortId: 'FRONT-END-9' });
    expect(text(search)).toContain('FRONT-END-9');
    const issue = await call(client, 'get_issue_context', { issue: hit.shortId });
    expect(issue.structuredContent).toMatchObject({
      id: '1170820242',
      title: 'ReferenceError: blooopy is not defined',
      project: 'front-end',
      status: 'unresolved',
      count: 1,
      userCount: 1,
    });
    expect(text(issue)).toMatch(/^## FRONT-END-9: ReferenceError: blooopy is not defined/);
    const unknown = await call(client, 'get_issue_context', { issue: 'NOPE-1' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/no issue "NOPE-1" in memory/);
    const badLimit = await call(client, 'search_memory', { query: 'error', limit: 500 });
    expect(badLimit.isError).toBe(true);
    expect(text(badLimit)).toMatch(/limit/);
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
    await expect(connect('http', 'smk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).rejects.toMatchObject(
      { code: 401 },
    );
  });
});
