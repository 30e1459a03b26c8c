import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createMcpServer } from '../../src/agent/server.js';
import { parseToolInput, type AgentTool } from '../../src/agent/tool.js';
import { agentTools } from '../../src/agent/tools/index.js';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { QueryError } from '../../src/memory/context/errors.js';
import { encodeCursor } from '../../src/memory/context/cursor.js';
import { rows } from '../helpers/database.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';

let service: AgentService;
let client: Client;
beforeAll(async () => {
  service = await startAgentService();
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer({ db: service.runtime.store.db, workspaceId: DEFAULT_WORKSPACE, now: () => EPOCH }).connect(
    serverSide,
  );
  client = new Client({ name: 'security-test', version: '1.0.0' });
  await client.connect(clientSide);
});
afterAll(async () => {
  await client.close();
  await service.close();
});

/** FTS5 syntax, SQL, quotes and awkward text: all of it must be searched as words or refused clearly. */
const hostileText = fc.oneof(
  fc.constantFrom(
    '"',
    '""',
    "'",
    '*',
    'blooopy*',
    'NEAR(blooopy defined)',
    'NEAR(a b, 2)',
    'a OR b',
    'NOT x',
    'AND',
    '-blooopy',
    '^blooopy',
    'title:blooopy',
    '{title}: x',
    "'; DROP TABLE issues; --",
    '" OR 1=1 --',
    ') OR (',
    'agent_fts MATCH',
    '\u0000',
    '\uD800',
    '%',
    '_',
    '\\',
    'x'.repeat(20_000),
    'a '.repeat(3_000),
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc
    .array(
      fc.constantFrom(
        'blooopy',
        'NEAR',
        'OR',
        'AND',
        'NOT',
        '"',
        '*',
        '(',
        ')',
        ':',
        '^',
        '-',
        '+',
        "'",
        ';',
        'TypeError',
        'checkout',
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((w) => w.join(' ')),
);
const timeText = fc.oneof(
  fc.constantFrom(
    '24h',
    '7d',
    '0m',
    '99999999999999w',
    '9007199254740993d',
    '1e9d',
    '-5d',
    '2026-11-01',
    '2026-11-19T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '+275760-09-14T00:00:00Z',
    '0000-01-01',
    'yesterday',
    '',
    ' ',
    'NaN',
  ),
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
);
const cursorText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.base64String({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => encodeCursor({ v })),
  fc.constantFrom(
    encodeCursor({ offset: -1 }),
    encodeCursor({ offset: 1e9 }),
    encodeCursor({ offset: 1.5 }),
    encodeCursor({ at: 1, id: [] }),
    encodeCursor({ at: "' OR 1=1", id: '"' }),
    encodeCursor({ offset: 3 }),
    encodeCursor({ at: '2026-11-19T00:00:00Z', id: 'z' }),
  ),
);
const anyText = fc.oneof(hostileText, timeText, cursorText);

/** Mostly a value the schema accepts, so calls get past validation and reach the queries; sometimes anything. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: anyText as fc.Arbitrary<unknown>, weight: 1 });
const maxTokens = mostly(fc.integer({ min: 200, max: 20_000 }));
const limit = (max: number) => mostly(fc.integer({ min: 1, max }));
const kindsOf = (kinds: string[]) => mostly(fc.uniqueArray(fc.constantFrom(...kinds), { maxLength: 3 }));
const withValidCursor = <T>(valid: fc.Arbitrary<T>) => fc.oneof(cursorText, valid);

/** A tool call with any subset of its arguments, each mostly valid and sometimes hostile. */
const toolCall = fc.oneof(
  fc.record({
    name: fc.constant('search_memory'),
    args: fc.record(
      {
        query: hostileText,
        project: anyText,
        environment: anyText,
        release: anyText,
        level: mostly(fc.constantFrom('error', 'fatal')),
        status: mostly(fc.constantFrom('unresolved', 'resolved')),
        kinds: kindsOf(['issue', 'comment', 'insight', 'alert', 'observation']),
        since: timeText,
        until: timeText,
        sort: mostly(fc.constantFrom('relevance', 'events', 'users', 'recent')),
        limit: limit(50),
        cursor: withValidCursor(fc.nat(250).map((offset) => encodeCursor({ offset }))),
        maxTokens,
      },
      { requiredKeys: ['query'] },
    ),
  }),
  fc.record({
    name: fc.constant('get_issue_context'),
    args: fc.record(
      {
        issue: fc.oneof(
          hostileText,
          fc.constantFrom(
            '1170820242',
            'FRONT-END-9',
            'https://sentry.io/organizations/x/issues/1170820242/',
            'https://evil.example/issues/1/',
            '0',
            '-1',
            '99999999999999999999999',
          ),
        ),
        maxTokens,
      },
      { requiredKeys: ['issue'] },
    ),
  }),
  fc.record({
    name: fc.constant('get_timeline'),
    args: fc.record(
      {
        since: timeText,
        until: timeText,
        project: anyText,
        environment: anyText,
        kinds: kindsOf(['new', 'regressed', 'resolved', 'deploy', 'comment', 'alert']),
        limit: limit(200),
        cursor: cursorText,
        maxTokens,
      },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    name: fc.constant('get_release_context'),
    args: fc.record({ version: anyText, maxTokens }, { requiredKeys: ['version'] }),
  }),
  fc.record({
    name: fc.constant('get_memory_status'),
    args: fc.record({ maxTokens, extra: anyText }, { requiredKeys: [] }),
  }),
);

/** Lone surrogates cannot be put in a URL; UTF-8 encoding turns them into U+FFFD, as a client would. */
const wellFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

const ENDPOINTS = {
  search_memory: '/api/v1/search',
  get_issue_context: '/api/v1/issues/',
  get_timeline: '/api/v1/timeline',
  get_release_context: '/api/v1/releases/',
  get_memory_status: '/api/v1/status',
} as const;

/** The same call as an HTTP request: path parameters in the path, the rest (any of them repeated) in the query string. */
function httpPath(name: keyof typeof ENDPOINTS, args: Record<string, unknown>, repeat: boolean): string {
  const { issue, version, query, ...rest } = args;
  const params = new URLSearchParams();
  if (query !== undefined) params.append('q', String(query));
  for (const [key, value] of Object.entries(rest)) {
    for (const item of [value].flat()) params.append(key, String(item));
    if (repeat) params.append(key, String([value].flat()[0] ?? ''));
  }
  const segment =
    name === 'get_issue_context'
      ? encodeURIComponent(wellFormed(String(issue ?? '')))
      : name === 'get_release_context'
        ? encodeURIComponent(wellFormed(String(version ?? '')))
        : '';
  return `${ENDPOINTS[name]}${segment}?${params}`;
}

const tableSizes = () =>
  Promise.all(
    ['issues', 'observations', 'releases', 'comments', 'api_keys', 'inbox'].map(
      async (t) => (await rows(service.runtime.store.db, `SELECT count(*) AS n FROM ${t}`))[0],
    ),
  );

/** An answer or a clear error; an error never carries a stack trace or SQL. */
function expectClearError(message: string): void {
  expect(message).toMatch(/\w{4}/);
  expect(message).not.toMatch(/\n\s+at |node_modules|SQLITE|sqlite|fts5:|syntax error|postgres|tsquery|tsvector/i);
}

describe('query inputs are inert (property-based)', () => {
  it('/api/v1: every endpoint answers 200, 400, 404 or 414 with a message, never 5xx, and changes nothing', async () => {
    const before = await tableSizes();
    await fc.assert(
      fc.asyncProperty(toolCall, fc.boolean(), async ({ name, args }, repeat) => {
        const response = await service.app.inject({
          method: 'GET',
          url: httpPath(name as keyof typeof ENDPOINTS, args, repeat),
          headers: { authorization: `Bearer ${service.keys.default}` },
        });
        // 414: a path parameter over Fastify's maxParamLength (100 characters).
        expect([200, 400, 404, 414]).toContain(response.statusCode);
        if (response.statusCode !== 200) {
          const { error, message } = JSON.parse(response.body) as { error: string; message?: string };
          expectClearError(response.statusCode === 414 ? message! : error);
        }
      }),
      { numRuns: 1_500 },
    );
    expect(await tableSizes()).toEqual(before);
  });

  it('each tool either answers or throws a QueryError (which MCP and HTTP turn into a clear error), nothing else', async () => {
    const ctx = { db: service.runtime.store.db, workspaceId: DEFAULT_WORKSPACE, now: () => EPOCH };
    await fc.assert(
      fc.asyncProperty(toolCall, async ({ name, args }) => {
        const tool = agentTools.find((t) => t.name === name) as unknown as AgentTool<z.ZodRawShape, z.ZodRawShape>;
        try {
          await tool.run(ctx, parseToolInput(tool, args));
        } catch (error) {
          if (!(error instanceof QueryError)) throw error;
          expectClearError(error.message);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('MCP tools answer or return a tool error that says what to change, never a protocol error', async () => {
    const before = await tableSizes();
    await fc.assert(
      fc.asyncProperty(toolCall, async ({ name, args }) => {
        const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
        const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
        if (result.isError) expectClearError(text);
        else expect(result.structuredContent).toBeTypeOf('object');
      }),
      { numRuns: 1_000 },
    );
    expect(await tableSizes()).toEqual(before);
  });

  it('FTS operators, quotes and SQL between the words of a real title are searched as text', async () => {
    const search = async (q: string) =>
      (await client.callTool({ name: 'search_memory', arguments: { query: q, limit: 50 } })) as CallToolResult;
    const plain = await search('blooopy defined');
    expect((plain.structuredContent as { hits: { issueId: string }[] }).hits.map((h) => h.issueId)).toContain(
      '1170820242',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.constantFrom('"', '*', '(', ')', ':', '^', '-', '+', "'", ';', '--', '/*', '*/', '{', '}', ',', '.'),
          { maxLength: 4 },
        ),
        fc.array(fc.constantFrom('"', '*', ')', '(', '^', ':', "'"), { maxLength: 3 }),
        async (between, around) => {
          const decorated = `${around.join('')}blooopy${between.join(' ')} ${around.join('')}defined${around.join('')}`;
          expect((await search(decorated)).structuredContent).toEqual({
            ...(plain.structuredContent as object),
            query: decorated,
          });
        },
      ),
      { numRuns: 200 },
    );
    // Operator words are words: NEAR/OR/NOT must be in the text, like any other word.
    const withOperators = await search('NEAR(blooopy NOT defined) OR');
    expect((withOperators.structuredContent as { match: string }).match).toBe('any-word');
  });

  it('malformed cursors and empty or reversed time ranges get a clear error naming the argument', async () => {
    const call = async (name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult;
    const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    for (const cursor of ['nope', encodeCursor({ offset: 'x' }), encodeCursor({ at: 1 }), '%%%']) {
      expect(text(await call('search_memory', { query: 'error', cursor }))).toMatch(/cursor/);
      expect(text(await call('get_timeline', { since: '30d', cursor }))).toMatch(/cursor/);
    }
    expect(text(await call('get_timeline', { since: '2026-11-19T00:00:00Z', until: '2026-11-18T00:00:00Z' }))).toMatch(
      /window is empty/,
    );
    expect(text(await call('get_timeline', { since: 'last tuesday' }))).toMatch(/since must be/);
    expect(text(await call('get_timeline', { since: '99999999999999w' }))).toMatch(/since/);
  });
});
