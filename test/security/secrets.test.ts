import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { MemoryStore } from '../../src/memory/store.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { runCliAsync, startServe, waitForExit } from '../helpers/cli.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { createTestDatabase, scalar, type TestDatabase } from '../helpers/database.js';

/**
 * Every secret the scenario uses, collected as it goes: the ones it makes up, and every credential
 * that crosses the wire between sentry-memory and the emulator (seen by a recording proxy between them).
 */
const secrets = new Set<string>();
/** Everything every process wrote (stdout and stderr), with what it was. */
const outputs: { what: string; text: string }[] = [];
const statuses: number[] = [];

const TOKEN_FIELDS = [
  'token',
  'refreshToken',
  'access_token',
  'refresh_token',
  'code',
  'client_secret',
  'client_assertion',
];

function collectSecrets(json: unknown): void {
  if (json === null || typeof json !== 'object') return;
  for (const [key, value] of Object.entries(json)) {
    if (TOKEN_FIELDS.includes(key) && typeof value === 'string' && value.length >= 8 && value !== emu.clientId)
      secrets.add(value);
    else collectSecrets(value);
  }
}

/** Forwards to the emulator, recording every Authorization header sent and every credential in bodies either way. */
function recordingProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const auth = req.headers.authorization;
    if (auth) secrets.add(auth.replace(/^\w+\s+/, ''));
    const requestText = body.toString('utf8');
    try {
      collectSecrets(JSON.parse(requestText));
    } catch {
      collectSecrets(Object.fromEntries(new URLSearchParams(requestText)));
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
    ) as Record<string, string>;
    const response = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers,
      body: body.length ? body : undefined,
      redirect: 'manual',
    });
    const text = await response.text();
    statuses.push(response.status);
    try {
      collectSecrets(JSON.parse(text));
    } catch {
      // Not JSON (an HTML 502, a redirect): no credentials in it.
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        responseHeaders[name] = value;
    });
    res.writeHead(response.status, responseHeaders);
    res.end(text);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

function distinct(name: string): string {
  const value = `${name}-${randomBytes(12).toString('hex')}`;
  secrets.add(value);
  return value;
}

async function cli(
  what: string,
  args: string[],
  env: Record<string, string>,
  interact?: (stderr: string) => Promise<boolean>,
) {
  const result = await runCliAsync(args, env, interact);
  outputs.push({ what: `${what} stdout`, text: result.stdout }, { what: `${what} stderr`, text: result.stderr });
  return result;
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let emu: Emulator;
let proxy: { url: string; server: Server };
let db: TestDatabase;
let oauthDatabase: TestDatabase;
const clientSecret = distinct('client-secret');
const encryptionKey = randomBytes(32).toString('hex');
secrets.add(encryptionKey);

beforeAll(async () => {
  db = await createTestDatabase();
  oauthDatabase = await createTestDatabase();
  // Faults on every path: 5xx, 429s from a tight rate limit.
  emu = await startEmulator({
    seed: 21,
    projects: 2,
    issues: 30,
    clientSecret,
    faults: { serverErrorRate: 0.1 },
    rateLimit: { perSecond: 15 },
  });
  secrets.add(emu.internalToken);
  proxy = await recordingProxy(emu.url);
});
afterAll(async () => {
  proxy.server.close();
  await emu.close();
  await db.cleanup();
  await oauthDatabase.cleanup();
});

describe('secrets never reach logs, output or error messages', () => {
  it('connect, sync, serve (installation, refresh, bad signatures, bad keys) and OAuth, with faults, at debug level', async () => {
    const env = {
      LOG_LEVEL: 'debug',
      SENTRY_MEMORY_ENCRYPTION_KEY: encryptionKey,
      SENTRY_CLIENT_SECRET: clientSecret,
      SENTRY_CLIENT_ID: emu.clientId,
    };
    const base = ['--db', db.location];

    // connect: a revoked/wrong token (401), then the real one; sync through 5xx and 429s.
    const wrong = await cli('connect (wrong token)', ['connect', '--url', proxy.url, '--org', emu.orgSlug, ...base], {
      ...env,
      SENTRY_AUTH_TOKEN: distinct('wrong-token'),
    });
    expect(wrong.status).not.toBe(0);
    expect(
      (
        await cli('connect', ['connect', '--url', proxy.url, '--org', emu.orgSlug, ...base], {
          ...env,
          SENTRY_AUTH_TOKEN: emu.internalToken,
        })
      ).status,
    ).toBe(0);
    expect((await cli('sync', ['sync', '--since', '2000-01-01', '--json', ...base], env)).status).toBe(0);
    const apiKey = (await runCliAsync(['apikey', 'create', '--name', 'secrets test', ...base], env)).stdout
      .trim()
      .split(/\s/)[0];
    secrets.add(apiKey);

    // serve: a public-integration install through the proxy, an expiry and refresh, forged webhooks, bad keys.
    const serve = await startServe([...base, '--sync-interval', '2s'], { ...env, SENTRY_URL: proxy.url });
    try {
      emu.webhookUrl = `${serve.url}/webhooks/sentry`;
      await emu.createInstallation();
      const installed = async () => {
        const store = await MemoryStore.open(db.location);
        try {
          return (
            (await scalar<number>(store.db, "SELECT count(*) FROM connections WHERE auth_kind = 'installation'")) > 0
          );
        } finally {
          await store.close();
        }
      };
      await until(installed, 'the installation to be connected');
      const refreshesBefore = emu.stats.refreshes;
      emu.expireTokens();
      await until(() => emu.stats.refreshes > refreshesBefore, 'a token refresh');
      const body = webhookFixture('issue.created').raw;
      for (const signature of [
        distinct('not-a-signature'),
        signBody(distinct('other-secret'), body),
        signBody(clientSecret, `${body} `),
      ]) {
        secrets.add(signature);
        const res = await fetch(`${serve.url}/webhooks/sentry`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'sentry-hook-resource': 'issue',
            'sentry-hook-timestamp': String(Math.floor(Date.now() / 1000)),
            'sentry-hook-signature': signature,
          },
        });
        expect(res.status).toBe(401);
      }
      const stale = signBody(clientSecret, body);
      secrets.add(stale);
      expect(
        (
          await fetch(`${serve.url}/webhooks/sentry`, {
            method: 'POST',
            body,
            headers: {
              'sentry-hook-resource': 'issue',
              'sentry-hook-timestamp': '1000',
              'sentry-hook-signature': stale,
            },
          })
        ).status,
      ).toBe(401);
      expect(
        (await fetch(`${serve.url}/api/v1/status`, { headers: { authorization: `Bearer ${distinct('smk_wrong')}` } }))
          .status,
      ).toBe(401);
      expect(
        (await fetch(`${serve.url}/api/v1/status`, { headers: { authorization: `Bearer ${apiKey}` } })).status,
      ).toBe(200);
      for (const delivery of emu.webhookDeliveries) secrets.add(signBody(clientSecret, JSON.stringify(delivery)));
    } finally {
      serve.child.kill('SIGTERM');
      await waitForExit(serve.child);
      outputs.push({ what: 'serve', text: serve.output() });
    }

    // OAuth: authorize, redirect with code and state, exchange; then sync with the OAuth tokens.
    const oauthDb = ['--db', oauthDatabase.location];
    const oauth = await cli(
      'connect --oauth',
      ['connect', '--url', proxy.url, '--org', emu.orgSlug, '--oauth', ...oauthDb],
      env,
      async (stderr) => {
        const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\/\S+)/.exec(stderr)?.[1];
        if (!url) return false;
        // The emulator's faults hit the authorize page too (10% server errors): the user's browser tries again.
        let callback: string | null = null;
        for (let attempt = 0; !callback && attempt < 20; attempt++)
          callback = (await fetch(url, { redirect: 'manual' })).headers.get('location');
        if (!callback) throw new Error('the authorize page never redirected');
        secrets.add(new URL(callback).searchParams.get('code')!);
        expect((await fetch(callback)).status).toBe(200);
        return true;
      },
    );
    expect(oauth.status, oauth.stderr).toBe(0);
    emu.expireTokens();
    expect((await cli('sync (oauth, expired token)', ['sync', '--since', '2000-01-01', ...oauthDb], env)).status).toBe(
      0,
    );

    // The scenario went through the faults it claims to.
    expect(statuses).toContain(401);
    expect(statuses.some((s) => s >= 500)).toBe(true);
    expect(emu.stats.rateLimited + emu.stats.serverErrors).toBeGreaterThan(0);
    expect(emu.stats.refreshes).toBeGreaterThanOrEqual(2);
    const store = await MemoryStore.open(db.location);
    try {
      expect((await store.counts(DEFAULT_WORKSPACE)).issues).toBe(emu.data.issues.length);
    } finally {
      await store.close();
    }

    const leaks: string[] = [];
    for (const secret of secrets) {
      for (const form of new Set([
        secret,
        Buffer.from(secret).toString('base64'),
        Buffer.from(secret).toString('base64url'),
      ])) {
        for (const { what, text } of outputs)
          if (text.includes(form))
            leaks.push(
              `${what} contains ${secret === form ? 'a secret' : 'the base64 of a secret'}: …${text.slice(Math.max(0, text.indexOf(form) - 80), text.indexOf(form))}`,
            );
      }
    }
    expect(secrets.size).toBeGreaterThan(12);
    expect(outputs.map((o) => o.text).join('').length).toBeGreaterThan(1_000);
    expect(leaks).toEqual([]);
  }, 120_000);
});
