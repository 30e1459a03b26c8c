import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createWebhookHandler } from '../../src/sentry/webhooks/receiver.js';
import { checkTimestamp, signBody, verifySignature } from '../../src/sentry/webhooks/signature.js';
import { scalar } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver, SECRET, sentryHeaders, startTestService, type TestService } from '../helpers/runtime.js';

const ws = DEFAULT_WORKSPACE;
const issueCreated = webhookFixture('issue.created');
let service: TestService;

beforeEach(async () => {
  service = await startTestService({ secrets: ['old-secret', SECRET], bodyLimitBytes: 64 * 1024 });
});
afterEach(async () => {
  await service.close();
});

const inboxCount = async () => Object.values(await service.runtime.inbox.countsByState(ws)).reduce((a, b) => a + b, 0);

describe('signature', () => {
  it('any single changed byte fails verification', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (body, at, flip) => {
          const signature = signBody(SECRET, body);
          const tampered = Uint8Array.from(body);
          tampered[at % body.length] ^= flip;
          return verifySignature(body, signature, [SECRET]) && !verifySignature(tampered, signature, [SECRET]);
        },
      ),
    );
  });

  it('rejects malformed signatures and accepts upper-case hex', () => {
    const signature = signBody(SECRET, 'x');
    expect(verifySignature('x', signature.toUpperCase(), [SECRET])).toBe(true);
    expect(verifySignature('x', signature.slice(1), [SECRET])).toBe(false);
    expect(verifySignature('x', undefined, [SECRET])).toBe(false);
    expect(verifySignature('x', signature, [])).toBe(false);
  });

  it('replay window: inside tolerance ok, outside or malformed rejected', () => {
    const now = 1_700_000_000_000;
    expect(checkTimestamp(String(now / 1000 - 299), 300, now)).toMatchObject({ ok: true });
    expect(checkTimestamp(String(now / 1000 - 301), 300, now)).toMatchObject({ ok: false });
    expect(checkTimestamp(String(now / 1000 + 301), 300, now)).toMatchObject({ ok: false });
    expect(checkTimestamp('soon', 300, now)).toMatchObject({ ok: false });
  });
});

describe('POST /webhooks/sentry', () => {
  it('accepts either secret while one is being rotated', async () => {
    expect((await deliver(service.app, 'issue', issueCreated.raw, { secret: 'old-secret' })).statusCode).toBe(200);
    expect((await deliver(service.app, 'issue', issueCreated.raw, { secret: SECRET })).statusCode).toBe(200);
    expect((await deliver(service.app, 'issue', issueCreated.raw, { secret: 'another' })).statusCode).toBe(401);
  });

  it('accepts the legacy Sentry-App-Signature header', async () => {
    const headers = sentryHeaders('issue', issueCreated.raw);
    headers['sentry-app-signature'] = headers['sentry-hook-signature'];
    delete headers['sentry-hook-signature'];
    const response = await service.app.inject({
      method: 'POST',
      url: '/webhooks/sentry',
      payload: issueCreated.raw,
      headers,
    });
    expect(response.statusCode).toBe(200);
  });

  it('401 without signature and outside the replay window; nothing stored', async () => {
    const unsigned = await service.app.inject({
      method: 'POST',
      url: '/webhooks/sentry',
      payload: issueCreated.raw,
      headers: { 'content-type': 'application/json', 'sentry-hook-resource': 'issue' },
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().error).toMatch(/missing Sentry-Hook-Signature/);
    const stale = await deliver(service.app, 'issue', issueCreated.raw, {
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error).toMatch(/tolerance/);
    expect(await inboxCount()).toBe(0);
  });

  it('400 on invalid JSON, 413 over the body limit', async () => {
    const broken = issueCreated.raw.slice(0, -3);
    const invalid = await deliver(service.app, 'issue', broken);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatch(/not valid JSON/);
    const big = JSON.stringify({ action: 'created', data: { padding: 'x'.repeat(70 * 1024) } });
    expect((await deliver(service.app, 'issue', big)).statusCode).toBe(413);
    expect(await inboxCount()).toBe(0);
  });

  it('a second delivery with the same Request-ID is acknowledged and has no second effect', async () => {
    const requestId = crypto.randomUUID();
    const first = await deliver(service.app, 'issue', issueCreated.raw, { requestId });
    const second = await deliver(service.app, 'issue', issueCreated.raw, { requestId });
    expect(first.json()).toEqual({ ok: true, duplicate: false });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ ok: true, duplicate: true });
    expect(await inboxCount()).toBe(1);
  });

  it('without Request-ID, the same resource and body is one delivery', async () => {
    await deliver(service.app, 'issue', issueCreated.raw, { requestId: null });
    const again = await deliver(service.app, 'issue', issueCreated.raw, { requestId: null });
    expect(again.json()).toEqual({ ok: true, duplicate: true });
    await deliver(service.app, 'error', issueCreated.raw, { requestId: null });
    expect(await inboxCount()).toBe(2);
  });

  it('duplicates inside one group commit are still detected', async () => {
    const requestId = crypto.randomUUID();
    const replies = await Promise.all(
      [1, 2, 3].map(() => deliver(service.app, 'issue', issueCreated.raw, { requestId })),
    );
    expect(replies.map((r) => r.json().duplicate).sort()).toEqual([false, true, true]);
  });

  it('unknown resources and actions are stored raw, skipped, and visible in status', async () => {
    const future = JSON.stringify({ action: 'published', data: { artifact: { id: 7 } }, installation: { uuid: 'x' } });
    expect((await deliver(service.app, 'preprod_artifact', future)).statusCode).toBe(200);
    const odd = JSON.stringify({ ...issueCreated.json, action: 'teleported' });
    expect((await deliver(service.app, 'issue', odd)).statusCode).toBe(200);
    await service.runtime.worker.drain();
    expect(await service.runtime.inbox.countsByState(ws)).toMatchObject({ skipped: 2, dead: 0 });
    const problems = await service.runtime.inbox.problems(ws, 10);
    expect(problems.map((p) => p.last_error)).toEqual([
      'unknown action "teleported" for resource "issue"',
      'unknown resource "preprod_artifact"',
    ]);
    const stored = await scalar(
      service.runtime.store.db,
      "SELECT body FROM inbox JOIN inbox_bodies USING (workspace_id, seq) WHERE resource = 'preprod_artifact'",
    );
    expect(stored).toBe(future);
  });

  it('a known resource whose payload lacks what processing needs goes dead at once, with the error kept', async () => {
    const body = JSON.stringify({ action: 'created', data: { issue: { title: 'no id' } } });
    await deliver(service.app, 'issue', body);
    await service.runtime.worker.drain();
    const [problem] = await service.runtime.inbox.problems(ws, 10);
    expect(problem).toMatchObject({ state: 'dead', attempts: 1 });
    expect(problem.last_error).toMatch(/invalid issue.created payload/);
  });

  it('GET /healthz answers with inbox counts', async () => {
    const response = await service.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ ok: true, inbox: { pending: 0 } });
  });
});

describe('Web-standard handler (library API)', () => {
  it('verifies, stores and answers like the server', async () => {
    const handler = createWebhookHandler({
      secrets: [SECRET],
      toleranceSeconds: 300,
      workspaceId: ws,
      enqueue: (d) => service.runtime.inbox.enqueue(d),
      maxBodyBytes: 1024 * 1024,
    });
    const request = (body: string, headers: Record<string, string>) =>
      new Request('http://localhost/api/sentry', { method: 'POST', body, headers });
    const ok = await handler(request(issueCreated.raw, sentryHeaders('issue', issueCreated.raw)));
    expect(ok.status).toBe(200);
    const bad = await handler(request(`${issueCreated.raw} `, sentryHeaders('issue', issueCreated.raw)));
    expect(bad.status).toBe(401);
    const tooBig = 'x'.repeat(1024 * 1024 + 1);
    expect((await handler(request(tooBig, sentryHeaders('issue', tooBig)))).status).toBe(413);
    expect((await handler(new Request('http://localhost/api/sentry'))).status).toBe(405);
    await service.runtime.worker.drain();
    expect((await service.runtime.store.issue(ws, 'FRONT-END-9'))?.title).toBe(
      'ReferenceError: blooopy is not defined',
    );
  });
});
