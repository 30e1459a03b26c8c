import { describe, expect, it } from 'vitest';
import { createWebhookHandler, openRuntime, parseWebhook } from '../src/index.js';
import { webhookFixtures } from './helpers/fixtures.js';
import { createTestDatabase } from './helpers/database.js';
import { sentryHeaders, SECRET } from './helpers/runtime.js';

describe('library API, as a route handler uses it', () => {
  it('every fixture parses into its typed variant', () => {
    for (const fixture of webhookFixtures()) {
      const parsed = parseWebhook(fixture.resource, fixture.json, '2026-01-01T00:00:00.000Z');
      expect(parsed.ok, fixture.name).toBe(true);
      if (parsed.ok) expect([parsed.event.resource, parsed.event.action]).toEqual([fixture.resource, fixture.action]);
    }
  });

  it('the documented Next.js handler stores and processes a signed delivery', async () => {
    const db = await createTestDatabase();
    const runtime = await openRuntime({ db: db.location });
    try {
      runtime.startProcessing();
      const POST = createWebhookHandler({
        secrets: [SECRET],
        toleranceSeconds: 300,
        workspaceId: 'default',
        enqueue: (d) => runtime.enqueue(d),
      });
      const [fixture] = webhookFixtures().filter((f) => f.name === 'issue.created');
      const response = await POST(
        new Request('https://app.example/api/sentry', {
          method: 'POST',
          body: fixture.raw,
          headers: sentryHeaders('issue', fixture.raw),
        }),
      );
      expect(response.status).toBe(200);
      await expect.poll(async () => (await runtime.store.issue('default', 'FRONT-END-9'))?.status).toBe('unresolved');
    } finally {
      await runtime.close();
      await db.cleanup();
    }
  });
});
