import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startAgentService, toolClient, type AgentService } from '../../helpers/agent-service.js';

let service: AgentService;
let client: Client;
beforeAll(async () => {
  service = await startAgentService();
  client = await toolClient(service);
});
afterAll(async () => {
  await client.close();
  await service.close();
});

describe('get_memory_status', () => {
  it('every project in memory', async () => {
    const status = await call(client, 'get_memory_status', {});
    const projects = (status.structuredContent as { projects: { slug: string }[] }).projects.map((p) => p.slug);
    expect(projects).toEqual(expect.arrayContaining([...service.data.projects.map((p) => p.slug), 'front-end']));
  });
});
