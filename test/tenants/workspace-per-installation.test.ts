import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { WorkspaceSummary } from '../../src/memory/workspaces.js';
import { HELD_WORKSPACE } from '../../src/queue/routing.js';
import { runCli } from '../helpers/cli.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { column, createTestDatabase, rows as query, scalar } from '../helpers/database.js';
import { deliver, startTestService, type TestService } from '../helpers/runtime.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One installation of the public integration: its uuid, organization and the one issue it reports. */
interface Tenant {
  key: string;
  uuid: string;
  org: string;
  issueId: string;
  shortId: string;
  /** A word only this tenant's issue, event and comment contain. */
  marker: string;
}

const tenant = (key: string, n: number, org: string, marker: string): Tenant => ({
  key,
  uuid: `0000000${n}-1111-4222-8333-44444444444${n}`,
  org,
  issueId: String(3_000_000_000 + n),
  shortId: `TENANT-${key.toUpperCase()}-${n}`,
  marker,
});

// A and C belong to organizations with the same slug: the second workspace gets a suffix.
const A = tenant('a', 1, 'acme', 'quokka');
const B = tenant('b', 2, 'globex', 'zanzibar');
const C = tenant('c', 3, 'acme', 'fjordland');
/** Installed before this server saw its installation.created (or never): its deliveries wait, held. */
const D = tenant('d', 4, 'initech', 'nimbostratus');
const tenants = [A, B, C];
/** Deliveries that name no installation: they go to the configured workspace. */
const NONE = tenant('z', 9, 'none', 'solitaire');

/** The docs' fixtures with this tenant's installation uuid and ids; nothing else changes. */
function withInstallation(body: Json, t: Tenant): Json {
  const copy = structuredClone(body);
  if (t === NONE) delete copy.installation;
  else copy.installation = { uuid: t.uuid };
  return copy;
}

function installationCreated(t: Tenant, action: 'created' | 'deleted' = 'created'): [string, Json] {
  const body = withInstallation(webhookFixture('installation.created').json, t);
  body.action = action;
  body.data.installation = {
    ...body.data.installation,
    uuid: t.uuid,
    code: `code-${t.key}`,
    organization: { slug: t.org },
  };
  return ['installation', body];
}

function issueCreated(t: Tenant, n = 0): [string, Json] {
  const body = withInstallation(webhookFixture('issue.created').json, t);
  const id = String(Number(t.issueId) + n * 10);
  body.data.issue = {
    ...body.data.issue,
    id,
    shortId: n ? `${t.shortId}${n}` : t.shortId,
    title: `ReferenceError: ${t.marker}${n || ''} is not defined`,
    metadata: { type: 'ReferenceError', value: `${t.marker} is not defined` },
  };
  return ['issue', body];
}

function errorCreated(t: Tenant): [string, Json] {
  const body = withInstallation(webhookFixture('error.created').json, t);
  body.data.error = {
    ...body.data.error,
    event_id: `${t.key.repeat(8)}${t.issueId}`.padEnd(32, '0'),
    issue_id: t.issueId,
    title: `ReferenceError: ${t.marker} is not defined`,
  };
  return ['error', body];
}

function commentCreated(t: Tenant): [string, Json] {
  const body = withInstallation(webhookFixture('comment.created').json, t);
  body.data = {
    ...body.data,
    comment_id: Number(t.issueId) + 7,
    issue_id: Number(t.issueId),
    comment: `${t.marker} again after the deploy`,
  };
  return ['comment', body];
}

let service: TestService;
let url: string;
/** Each tenant's workspace id, as `workspace list` reports it. */
const workspaceOf = new Map<Tenant, string>();
const apiKeys = new Map<Tenant, string>();

const send = async ([resource, body]: [string, Json]) => {
  const response = await deliver(service.app, resource, JSON.stringify(body));
  expect(response.statusCode, response.body).toBe(200);
};
const rows = (table: 'issues' | 'events' | 'comments' | 'connections', workspaceId: string, name = 'id') =>
  column<string>(
    service.runtime.store.db,
    `SELECT ${name} FROM ${table} WHERE workspace_id = ? ORDER BY 1`,
    workspaceId,
  );
const workspaceList = (): WorkspaceSummary[] => {
  const result = runCli(['workspace', 'list', '--json', '--db', service.location]);
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as WorkspaceSummary[];
};

beforeAll(async () => {
  service = await startTestService({ workspacePerInstallation: true });
  // C's issue overtakes C's installation.created; D's installation.created never comes.
  await send(issueCreated(C));
  await send(issueCreated(D));
  const heldFirst = await query(service.runtime.store.db, 'SELECT workspace_id, state FROM inbox');
  expect(heldFirst).toEqual([
    { workspace_id: HELD_WORKSPACE, state: 'held' },
    { workspace_id: HELD_WORKSPACE, state: 'held' },
  ]);
  // Interleaved, and concurrent: routing happens inside group commits holding several installations.
  const interleaved = [
    installationCreated(A),
    installationCreated(B),
    issueCreated(A),
    errorCreated(C),
    issueCreated(B),
    errorCreated(A),
    installationCreated(C),
    errorCreated(B),
    commentCreated(A),
    commentCreated(C),
    commentCreated(B),
    issueCreated(NONE),
  ];
  await Promise.all(interleaved.map(send));
  await service.runtime.worker.drain();
  for (const w of workspaceList()) {
    const t = tenants.find((x) => w.installations.some((i) => i.externalId === x.uuid));
    if (t) workspaceOf.set(t, w.id);
  }
  for (const t of tenants) {
    const created = runCli([
      'apikey',
      'create',
      '--workspace',
      workspaceOf.get(t)!,
      '--name',
      t.org,
      '--json',
      '--db',
      service.location,
    ]);
    expect(created.status, created.stderr).toBe(0);
    apiKeys.set(t, JSON.parse(created.stdout).key);
  }
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await service?.close();
});

describe('serve --workspace-per-installation: one workspace per installation', () => {
  it('installation.created creates a readable, unique workspace and its mapping; `workspace list` shows them', () => {
    expect(new Set(workspaceOf.values())).toEqual(new Set(['acme', 'acme-2', 'globex']));
    expect(workspaceOf.get(B)).toBe('globex');
    const list = workspaceList();
    expect(list.map((w) => w.id)).toEqual([HELD_WORKSPACE, 'acme', 'acme-2', DEFAULT_WORKSPACE, 'globex']);
    for (const t of tenants) {
      // installation.created, issue, error, comment.
      expect(list.find((w) => w.id === workspaceOf.get(t))).toMatchObject({
        name: t.org,
        installations: [{ source: 'sentry', externalId: t.uuid }],
        issues: 1,
        deliveries: 4,
        createdAt: expect.any(String),
      });
    }
    expect(list.find((w) => w.id === DEFAULT_WORKSPACE)).toMatchObject({
      installations: [],
      issues: 1,
      deliveries: 1,
      createdAt: null,
    });
    // D's delivery is kept, unprocessed, until D is installed.
    expect(list.find((w) => w.id === HELD_WORKSPACE)).toMatchObject({ issues: 0, deliveries: 1 });
    const text = runCli(['workspace', 'list', '--db', service.location]);
    expect(text.stdout).toMatch(
      new RegExp(`^globex {2}sentry installation ${B.uuid} {2}created \\S+ {2}1 issues {2}4 deliveries$`, 'm'),
    );
  });

  it("each workspace holds exactly its installation's issue, event, comment and connection — and held deliveries joined their workspace", async () => {
    for (const t of tenants) {
      const ws = workspaceOf.get(t)!;
      expect(await rows('issues', ws), t.org).toEqual([t.issueId]);
      expect(await rows('events', ws, 'issue_id'), t.org).toEqual([t.issueId]);
      expect(await rows('comments', ws, 'text'), t.org).toEqual([`${t.marker} again after the deploy`]);
      expect(await rows('connections', ws, 'external_id'), t.org).toEqual([t.uuid]);
      expect(await service.runtime.inbox.countsByState(ws), t.org).toEqual({
        pending: 0,
        processed: 4,
        skipped: 0,
        dead: 0,
        held: 0,
      });
    }
    expect(await rows('issues', DEFAULT_WORKSPACE)).toEqual([String(3_000_000_009)]);
    expect(await service.runtime.inbox.countsByState(HELD_WORKSPACE)).toMatchObject({
      held: 1,
      pending: 0,
      processed: 0,
    });
    expect(await rows('issues', HELD_WORKSPACE)).toEqual([]);
  });

  it('a key from `apikey create --workspace W` sees only W over /api/v1 and MCP', async () => {
    for (const t of tenants) {
      const key = apiKeys.get(t)!;
      const get = async (path: string) => {
        const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
        return { status: response.status, text: await response.text() };
      };
      const client = new Client({ name: t.org, version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
          requestInit: { headers: { Authorization: `Bearer ${key}` } },
        }),
      );
      try {
        const call = async (name: string, args: Record<string, unknown>) =>
          (await client.callTool({ name, arguments: args })) as CallToolResult;
        const own = await get(`/api/v1/search?q=${t.marker}&kinds=issue,comment,observation`);
        expect(own.text).toContain(t.shortId);
        expect((await get(`/api/v1/issues/${t.shortId}`)).status).toBe(200);
        expect(JSON.stringify(await call('search_memory', { query: t.marker }))).toContain(t.shortId);
        for (const other of [...tenants, D].filter((x) => x !== t)) {
          const markers = [other.shortId, other.marker, other.issueId];
          // A search answer may echo its query ("no results for …"): that echo is removed first.
          const searches = [
            (await get(`/api/v1/search?q=${other.marker}&kinds=issue,comment,observation`)).text,
            JSON.stringify(
              await call('search_memory', { query: other.marker, kinds: ['issue', 'comment', 'observation'] }),
            ),
          ].map((answer) => answer.replaceAll(`"${other.marker}"`, '').replaceAll(`\\"${other.marker}\\"`, ''));
          const answers = [
            ...searches,
            (await get('/api/v1/timeline?since=2000-01-01T00:00:00Z&limit=200')).text,
            (await get('/api/v1/status')).text,
            JSON.stringify(await call('get_timeline', { since: '2000-01-01T00:00:00Z', limit: 200 })),
          ];
          for (const answer of answers)
            expect(
              markers.filter((m) => answer.includes(m)),
              `${t.org} asked about ${other.org}: ${answer}`,
            ).toEqual([]);
          expect((await get(`/api/v1/issues/${other.shortId}`)).status).toBe(404);
          expect((await get(`/api/v1/issues/${other.issueId}`)).status).toBe(404);
          expect((await call('get_issue_context', { issue: other.shortId })).isError).toBe(true);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('installation.deleted stops one installation; the others go on', async () => {
    await send(installationCreated(A, 'deleted'));
    await send(issueCreated(A, 1));
    await send(issueCreated(B, 1));
    await send(issueCreated(C, 1));
    await service.runtime.worker.drain();
    const state = (t: Tenant) => rows('connections', workspaceOf.get(t)!, 'state');
    expect([await state(A), await state(B), await state(C)]).toEqual([['deleted'], ['pending'], ['pending']]);
    expect(await rows('issues', workspaceOf.get(A)!)).toEqual([A.issueId]);
    expect(await rows('issues', workspaceOf.get(B)!)).toEqual([B.issueId, String(Number(B.issueId) + 10)]);
    expect(await rows('issues', workspaceOf.get(C)!)).toEqual([C.issueId, String(Number(C.issueId) + 10)]);
    expect(await service.runtime.inbox.countsByState(workspaceOf.get(A)!)).toMatchObject({ processed: 5, skipped: 1 });
  });
});

describe('without the option: one workspace, as before', () => {
  it('deliveries of different installations all go to the configured workspace, and no workspace is created', async () => {
    const single = await startTestService();
    try {
      for (const [resource, body] of [
        installationCreated(A),
        installationCreated(B),
        issueCreated(A),
        issueCreated(B),
        issueCreated(D),
      ]) {
        const response = await deliver(single.app, resource, JSON.stringify(body));
        expect(response.statusCode).toBe(200);
      }
      await single.runtime.worker.drain();
      const db = single.runtime.store.db;
      expect(await column(db, 'SELECT DISTINCT workspace_id FROM inbox')).toEqual([DEFAULT_WORKSPACE]);
      expect(await column(db, 'SELECT id FROM issues WHERE workspace_id = ? ORDER BY id', DEFAULT_WORKSPACE)).toEqual([
        A.issueId,
        B.issueId,
        D.issueId,
      ]);
      expect(await scalar(db, 'SELECT count(*) FROM installation_workspaces')).toBe(0);
      expect(await scalar(db, 'SELECT count(*) FROM workspaces')).toBe(0);
    } finally {
      await single.close();
    }
  });
});

describe('turning the option on for a memory that already has data', () => {
  it('an installation that delivered before keeps its workspace instead of being held', async () => {
    const database = await createTestDatabase();
    try {
      const before = await startTestService({ location: database.location });
      expect((await deliver(before.app, ...asDelivery(issueCreated(A)))).statusCode).toBe(200);
      await before.runtime.worker.drain();
      await before.close();

      const after = await startTestService({ location: database.location, workspacePerInstallation: true });
      try {
        expect((await deliver(after.app, ...asDelivery(issueCreated(A, 1)))).statusCode).toBe(200);
        await after.runtime.worker.drain();
        const db = after.runtime.store.db;
        expect(await scalar(db, "SELECT count(*) FROM inbox WHERE state = 'held'")).toBe(0);
        expect(await column(db, 'SELECT id FROM issues WHERE workspace_id = ? ORDER BY id', DEFAULT_WORKSPACE)).toEqual(
          [A.issueId, String(Number(A.issueId) + 10)],
        );
        // An installation never seen before is still held until its installation.created.
        expect((await deliver(after.app, ...asDelivery(issueCreated(D)))).statusCode).toBe(200);
        expect(await query(db, 'SELECT workspace_id, state FROM inbox ORDER BY seq DESC LIMIT 1')).toEqual([
          { workspace_id: HELD_WORKSPACE, state: 'held' },
        ]);
      } finally {
        await after.close();
      }
    } finally {
      await database.cleanup();
    }
  });
});

function asDelivery([resource, body]: [string, Json]): [string, string] {
  return [resource, JSON.stringify(body)];
}
