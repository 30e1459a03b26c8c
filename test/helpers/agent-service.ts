import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { createMcpServer } from '../../src/agent/server.js';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey } from '../../src/memory/api-keys.js';
import type { EmulatorData } from '../../src/sentry/emulator/index.js';
import { EPOCH, emulatorRecords, seededOrganization } from './emulator-memory.js';
import { applyWebhookFixtures, startTestService, type TestService } from './runtime.js';

export const OTHER_WORKSPACE = 'other';

export interface AgentService extends TestService {
  url: string;
  /** The default workspace's emulator organization (the Sentry fixtures are in that workspace too). */
  data: EmulatorData;
  /** A different organization, in workspace "other", whose ids overlap the default one's. */
  otherData: EmulatorData;
  keys: { default: string; other: string };
}

/**
 * The real HTTP service on 127.0.0.1: an emulator org plus every Sentry webhook fixture (through the
 * inbox and worker) in the default workspace, another org in workspace "other", a key for each.
 * Its clock stands at EPOCH, where the seeded history ends: answers do not change as real days pass.
 */
export async function startAgentService(options: { related?: boolean; webRoot?: string } = {}): Promise<AgentService> {
  const service = await startTestService({ now: () => EPOCH, webRoot: options.webRoot });
  const { runtime } = service;
  const main = seededOrganization({ related: options.related });
  const other = seededOrganization({ seed: 99, projects: 2, issues: 40 });
  await runtime.store.apply(DEFAULT_WORKSPACE, 'sentry', emulatorRecords(main.store));
  await runtime.store.apply(OTHER_WORKSPACE, 'sentry', emulatorRecords(other.store));
  await applyWebhookFixtures(runtime);
  const keys = {
    default: (await createApiKey(runtime.store.db, DEFAULT_WORKSPACE, 'test')).key,
    other: (await createApiKey(runtime.store.db, OTHER_WORKSPACE, 'test')).key,
  };
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = service.app.server.address() as AddressInfo;
  return { ...service, url: `http://127.0.0.1:${port}`, data: main.data, otherData: other.data, keys };
}

/** An MCP client of the service's memory, in process: what a tool test calls, with no transport in between. */
export async function toolClient(service: AgentService, workspaceId = DEFAULT_WORKSPACE): Promise<Client> {
  const server = createMcpServer({ db: service.runtime.store.db, workspaceId, now: () => EPOCH });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'sentry-memory-test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A tool result's markdown. */
export const text = (result: CallToolResult) => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

/** The agent service and an in-process client of it, started before the calling file's tests and closed after them. */
export function agentFixture(options: { related?: boolean } = {}): { service: AgentService; client: Client } {
  const fixture = {} as { service: AgentService; client: Client };
  beforeAll(async () => {
    fixture.service = await startAgentService(options);
    fixture.client = await toolClient(fixture.service);
  });
  afterAll(async () => {
    await fixture.client.close();
    await fixture.service.close();
  });
  return fixture;
}
