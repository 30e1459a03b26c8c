import type { AddressInfo } from 'node:net';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey } from '../../src/memory/api-keys.js';
import type { EmulatorData } from '../../src/sentry/emulator/index.js';
import { EPOCH, emulatorRecords, seededOrganization } from './emulator-memory.js';
import { webhookFixtures } from './fixtures.js';
import { startTestService, type TestService } from './runtime.js';

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
export async function startAgentService(): Promise<AgentService> {
  const service = await startTestService({ now: () => EPOCH });
  const { runtime } = service;
  const main = seededOrganization();
  const other = seededOrganization({ seed: 99, projects: 2, issues: 40 });
  await runtime.store.apply(DEFAULT_WORKSPACE, 'sentry', emulatorRecords(main.store));
  await runtime.store.apply(OTHER_WORKSPACE, 'sentry', emulatorRecords(other.store));
  const sentAt = '2026-11-20T10:00:00.000Z';
  for (const fixture of webhookFixtures()) {
    await runtime.inbox.enqueue({ workspaceId: DEFAULT_WORKSPACE, source: 'sentry', deliveryId: fixture.name, resource: fixture.resource, action: fixture.action, externalId: null, sentAt, body: fixture.raw });
  }
  await runtime.worker.drain();
  const keys = { default: (await createApiKey(runtime.store.db, DEFAULT_WORKSPACE, 'test')).key, other: (await createApiKey(runtime.store.db, OTHER_WORKSPACE, 'test')).key };
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = service.app.server.address() as AddressInfo;
  return { ...service, url: `http://127.0.0.1:${port}`, data: main.data, otherData: other.data, keys };
}
