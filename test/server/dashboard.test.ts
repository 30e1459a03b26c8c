import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEB_ROOT } from '../../src/server/dashboard.js';
import { repoRoot } from '../helpers/cli.js';
import { startTestService, type TestService } from '../helpers/runtime.js';

const FIXTURE = join(repoRoot, 'test', 'fixtures', 'dashboard');
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let built: TestService;
let unbuilt: TestService;
let empty: string;
beforeAll(async () => {
  empty = await mkdtemp(join(tmpdir(), 'sm-web-'));
  built = await startTestService({ webRoot: FIXTURE });
  unbuilt = await startTestService({ webRoot: empty });
});
afterAll(async () => {
  await built.close();
  await unbuilt.close();
  await rm(empty, { recursive: true, force: true });
});

const get = (service: TestService, url: string, headers: Record<string, string> = {}) =>
  service.app.inject({ method: 'GET', url, headers: { host: 'localhost:8787', ...headers } });

describe('the dashboard pages', () => {
  it('serve index.html on every page path, revalidated, under a strict CSP', async () => {
    for (const path of ['/', '/timeline', '/search', '/sign-in', '/issues/CHECKOUT-API-3Z', '/releases/web%402.0.0']) {
      const res = await get(built, path);
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('sentry-memory (test build)');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('same-origin');
    }
  });

  it('serve hashed assets cached for good, and 404 for what is not there or outside the build', async () => {
    const asset = await get(built, '/assets/index-Bx7kQ2aF.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect(asset.headers['content-security-policy']).toBeUndefined();
    expect(asset.body).toContain('test build');
    expect((await get(built, '/assets/nope.js')).statusCode).toBe(404);
    // Climbing out of assets/ is refused (403 by the file server), out of the build not found.
    expect((await get(built, '/assets/..%2findex.html')).statusCode).toBe(403);
    expect((await get(built, '/assets/..%2f..%2f..%2f..%2fpackage.json')).statusCode).toBe(403);
    expect((await get(built, '/assets/../../package.json')).statusCode).toBe(404);
  });

  it('leave the API, MCP, webhooks and health to their own routes', async () => {
    const api = await get(built, '/api/v1/status');
    expect(api.statusCode).toBe(401);
    expect(api.headers['content-type']).toMatch(/json/);
    expect((await get(built, '/mcp')).statusCode).toBe(401);
    expect((await get(built, '/webhooks/sentry')).statusCode).toBe(404);
    const health = await get(built, '/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ ok: true });
    expect((await get(built, '/unknown-page')).statusCode).toBe(404);
  });

  it('are behind the host check like /api/v1', async () => {
    expect((await get(built, '/', { host: 'evil.example' })).statusCode).toBe(403);
    expect((await get(built, '/assets/index-Bx7kQ2aF.js', { host: 'evil.example:8787' })).statusCode).toBe(403);
  });

  it('say to build them when there is no build', async () => {
    const res = await get(unbuilt, '/timeline');
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatch(/npm run build/);
  });

  it('are read from the package’s dist/web by default', () => {
    expect(DEFAULT_WEB_ROOT).toBe(join(repoRoot, 'dist', 'web'));
  });
});
