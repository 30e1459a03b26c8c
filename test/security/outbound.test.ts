import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { SentryApiClient } from '../../src/sentry/api/client.js';
import { StaticTokenProvider } from '../../src/sentry/auth/token-provider.js';
import { checkSentryUrl } from '../../src/sentry/base-url.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { SentrySync } from '../../src/sentry/sync/sync.js';
import { runCliAsync } from '../helpers/cli.js';
import { webhookFixtures } from '../helpers/fixtures.js';
import { createTestDatabase, openTestStore, scalar } from '../helpers/database.js';
import { deliver, startTestService } from '../helpers/runtime.js';
import { ALL_HISTORY } from '../helpers/sync.js';

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

/** A host that payloads point at; sentry-memory must never call it. */
const trapped: string[] = [];
let trap: { url: string; server: Server };
let emu: Emulator;
beforeAll(async () => {
  trap = await listen((req, res) => {
    trapped.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  emu = await startEmulator({ seed: 5, projects: 2, issues: 25, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  trap.server.close();
  await emu.close();
});

describe('outbound requests', () => {
  it('a Sentry URL must be https, or plain http to loopback only', () => {
    for (const ok of [
      'https://sentry.io',
      'https://sentry.example.com/',
      'http://127.0.0.1:9000',
      'http://localhost:8080',
      'http://[::1]:9000',
    ])
      expect(() => checkSentryUrl(ok)).not.toThrow();
    for (const bad of [
      'http://sentry.example.com',
      'http://10.0.0.5',
      'http://127.0.0.1.evil.example',
      'ftp://sentry.io',
      'sentry.io',
      'javascript:alert(1)',
      'https://user:pw@sentry.io',
      'file:///etc/passwd',
    ]) {
      expect(() => checkSentryUrl(bad), bad).toThrow(/must be an https URL/);
    }
    expect(() => checkSentryUrl('https://user:hunter22@sentry.io')).toThrow(/^(?!.*hunter22)/);
  });

  it('connect refuses a plain-http, non-loopback URL before sending anything', async () => {
    const db = await createTestDatabase();
    const result = await runCliAsync(
      ['connect', '--url', 'http://sentry.example.com', '--org', 'acme', '--db', db.location],
      { SENTRY_AUTH_TOKEN: 'tok-never-sent' },
    );
    await db.cleanup();
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/--url must be an https URL/);
    expect(result.stderr).not.toContain('tok-never-sent');
  });

  it('serve refuses a plain-http, non-loopback SENTRY_URL before it listens', async () => {
    const db = await createTestDatabase();
    const result = await runCliAsync(['serve', '--port', '0', '--db', db.location], {
      SENTRY_URL: 'http://sentry.example.com',
      SENTRY_CLIENT_ID: 'app',
      SENTRY_CLIENT_SECRET: 'secret-never-logged',
    });
    await db.cleanup();
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/SENTRY_URL must be an https URL/);
    expect(result.stdout + result.stderr).not.toMatch(/is serving|secret-never-logged/);
  });

  it('URLs inside webhook deliveries (permalink, web_url, issue_url, url) are stored, never fetched', async () => {
    const service = await startTestService();
    try {
      let withUrls = 0;
      for (const fixture of webhookFixtures()) {
        const body = fixture.raw.replace(/https?:\/\/[^"\s]+/g, (url) => `${trap.url}${new URL(url).pathname}`);
        if (body !== fixture.raw) withUrls += 1;
        expect((await deliver(service.app, fixture.resource, body)).statusCode).toBe(200);
      }
      expect(withUrls).toBeGreaterThan(2);
      await service.runtime.worker.drain();
      expect((await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).processed).toBe(webhookFixtures().length);
      await new Promise((r) => setImmediate(r));
      expect(trapped).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it("URLs in API responses (links.regionUrl, permalink, Link header) never redirect the sync: it only calls the connection's base URL", async () => {
    // Sentry, as seen through a proxy that points every URL in every response (body and Link header) at the trap.
    const proxy = await listen(async (req, res) => {
      const response = await fetch(`${emu.url}${req.url}`, {
        headers: { authorization: req.headers.authorization ?? '' },
      });
      const rewrite = (text: string) => text.replaceAll(emu.url, trap.url);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
          headers[name] = rewrite(value);
      });
      res.writeHead(response.status, headers).end(rewrite(await response.text()));
    });
    const { store, close } = await openTestStore();
    try {
      const client = new SentryApiClient({ baseUrl: proxy.url, tokens: new StaticTokenProvider(emu.internalToken) });
      await new SentrySync({
        client,
        organization: emu.orgSlug,
        workspaceId: DEFAULT_WORKSPACE,
        connectionId: 'test',
        db: store.db,
        since: ALL_HISTORY,
        now: emu.now,
      }).run();
      expect((await store.counts(DEFAULT_WORKSPACE)).issues).toBe(emu.data.issues.length);
      const permalink = await scalar<number>(
        store.db,
        'SELECT count(*) FROM issues WHERE permalink LIKE ?',
        `${trap.url}%`,
      );
      expect(permalink).toBe(emu.data.issues.length);
      expect(trapped).toEqual([]);
    } finally {
      await close();
      proxy.server.close();
    }
  });
});
