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

describe('get_release_context', () => {
  it('the issues a release introduced', async () => {
    const release = service.data.releases.find((r) => service.data.issues.some((i) => i.firstRelease === r.version))!;
    const releaseAnswer = await call(client, 'get_release_context', { version: release.version });
    expect((releaseAnswer.structuredContent as { newIssues: { total: number } }).newIssues.total).toBe(
      service.data.issues.filter((i) => i.firstRelease === release.version).length,
    );
  });
});
