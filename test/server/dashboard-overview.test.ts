import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey } from '../../src/memory/api-keys.js';
import { ConnectionRepository } from '../../src/sentry/auth/connections.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { CheckpointStore } from '../../src/sentry/sync/checkpoints.js';
import { SyncLeases } from '../../src/sentry/sync/lease.js';
import { waitFor } from '../helpers/cli.js';
import { rows } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { allowComments, REFUSAL, refuseComments } from '../helpers/refuse-writes.js';
import { deliver, startTestService, type TestService } from '../helpers/runtime.js';
import { syncFor } from '../helpers/sync.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The real clock: the inbox stamps deliveries with it, and the overview counts the last minutes by it.
let service: TestService;
let emu: Emulator;
let url: string;
let key: string;
let connectionId: string;
beforeAll(async () => {
  service = await startTestService();
  emu = await startEmulator({ seed: 5, issues: 40, projects: 2, rateLimit: { perSecond: 100_000 } });
  const db = service.runtime.store.db;
  key = (await createApiKey(db, DEFAULT_WORKSPACE, 'dashboard')).key;
  const connection = await new ConnectionRepository(db, DEFAULT_WORKSPACE, randomBytes(32)).save({
    orgSlug: emu.orgSlug,
    apiUrl: emu.url,
    auth: { kind: 'internal', token: emu.internalToken },
  });
  connectionId = connection.id;
  const acquired = await new SyncLeases(db, DEFAULT_WORKSPACE).tryAcquire(connectionId);
  if (!('lease' in acquired)) throw new Error('the connection is free');
  await acquired.lease.run(() => syncFor(emu, service.runtime.store, { connectionId, now: Date.now }).run());
  await service.app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await service?.close();
  await emu?.close();
});

async function overview(): Promise<Json> {
  const res = await fetch(`${url}/api/v1/overview`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

const stream = (o: Json, name: string) => o.connections[0].streams.find((s: Json) => s.stream === name);

async function inboxRow(deliveryId: string) {
  const [row] = await rows<{ seq: number; state: string; attempts: number }>(
    service.runtime.store.db,
    'SELECT seq, state, attempts FROM inbox WHERE delivery_id = ?',
    deliveryId,
  );
  return row;
}

describe('the dashboard overview and retry', () => {
  it('shows each stream of a synced connection, the inbox, the processing rate and deliveries per minute', async () => {
    for (const name of ['issue.created', 'error.created', 'event_alert.triggered']) {
      const fixture = webhookFixture(name);
      expect((await deliver(service.app, fixture.resource, fixture.raw, { requestId: name })).statusCode).toBe(200);
    }
    await service.runtime.worker.drain();
    const o = await overview();
    expect(o.connections).toHaveLength(1);
    expect(o.connections[0]).toMatchObject({
      id: connectionId,
      source: 'sentry',
      organization: emu.orgSlug,
      sync: { state: 'idle', finishedAt: expect.any(String) },
    });
    expect(o.connections[0].streams.map((s: Json) => s.stream)).toEqual(
      expect.arrayContaining(['projects', 'releases', 'issues']),
    );
    for (const s of o.connections[0].streams)
      expect(s, s.stream).toMatchObject({ state: 'idle', lastCompletedAt: expect.any(String), progress: null });
    expect(o.freshness.syncs.length).toBe(o.connections[0].streams.length);
    expect(o.freshness.stale).toBe(false);
    expect(o.inbox.counts).toMatchObject({ processed: 3, dead: 0, pending: 0 });
    expect(o.processing.last5m).toEqual({ processed: 3, perMinute: 0.6 });
    expect(o.processing.last15m).toEqual({ processed: 3, perMinute: 0.2 });
    const buckets: Json[] = o.deliveriesPerMinute.buckets;
    expect(buckets.reduce((n, b) => n + b.received, 0)).toBe(3);
    expect(buckets.reduce((n, b) => n + b.processed, 0)).toBe(3);
    for (const b of buckets) expect(b.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    expect(Date.parse(o.deliveriesPerMinute.until) - Date.parse(o.deliveriesPerMinute.since)).toBeGreaterThanOrEqual(
      24 * 3_600_000,
    );
  });

  it('a running stream shows where it stands; one whose sync failed part way shows failed', async () => {
    const db = service.runtime.store.db;
    const acquired = await new SyncLeases(db, DEFAULT_WORKSPACE).tryAcquire(connectionId);
    if (!('lease' in acquired)) throw new Error('the connection is free');
    const window = { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' };
    await new CheckpointStore(db, DEFAULT_WORKSPACE, connectionId, Date.now).save('issues', 'cursor-2', {
      phase: 'running',
      window,
    });
    const running = await overview();
    expect(running.connections[0].sync.state).toBe('running');
    expect(stream(running, 'issues')).toMatchObject({
      state: 'running',
      lastCompletedAt: null,
      progress: { cursor: 'cursor-2', window },
    });
    expect(stream(running, 'projects').state).toBe('idle');
    await expect(acquired.lease.run(() => Promise.reject(new Error('Sentry went away')))).rejects.toThrow();
    const failed = await overview();
    expect(failed.connections[0].sync.state).toBe('failed');
    expect(stream(failed, 'issues')).toMatchObject({ state: 'failed', progress: { cursor: 'cursor-2' } });
  });

  it('retry re-queues a dead-lettered delivery (cookie session with its CSRF token), and the worker then applies it', async () => {
    const db = service.runtime.store.db;
    await refuseComments(db);
    const comment = webhookFixture('comment.created');
    expect((await deliver(service.app, 'comment', comment.raw, { requestId: 'poison' })).statusCode).toBe(200);
    const dead = await waitFor('the comment delivery to be dead-lettered', async () => {
      await service.runtime.worker.drain();
      const row = await inboxRow('poison');
      return row.state === 'dead' ? row : undefined;
    });
    const listed = await fetch(`${url}/api/v1/inbox?state=dead`, { headers: { authorization: `Bearer ${key}` } });
    expect((await listed.json()).items).toEqual([
      expect.objectContaining({ seq: Number(dead.seq), resource: 'comment', state: 'dead', lastError: REFUSAL }),
    ]);
    expect((await overview()).inbox.counts.dead).toBe(1);

    const signIn = await fetch(`${url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: key }),
    });
    const { csrfToken } = await signIn.json();
    const cookie = signIn.headers.getSetCookie()[0].split(';')[0];
    const retry = (seq: number | string, headers: Record<string, string> = { 'x-csrf-token': csrfToken }) =>
      fetch(`${url}/api/v1/inbox/${seq}/retry`, { method: 'POST', headers: { cookie, ...headers } });
    expect((await retry(dead.seq, {})).status).toBe(403);
    expect((await retry(dead.seq, { 'x-csrf-token': csrfToken, origin: 'http://localhost:1' })).status).toBe(403);
    const processed = (await inboxRow('issue.created')).seq;
    const conflict = await retry(processed);
    expect(conflict.status).toBe(409);
    expect((await conflict.json()).error).toBe(
      `delivery #${processed} is processed; only dead or skipped deliveries can be retried`,
    );
    expect((await retry(999_999)).status).toBe(404);
    expect((await retry('x')).status).toBe(400);

    await allowComments(db);
    const ok = await retry(dead.seq);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ seq: Number(dead.seq), state: 'pending' });
    expect((await retry(dead.seq)).status).toBe(409);
    await service.runtime.worker.drain();
    expect(await inboxRow('poison')).toMatchObject({ state: 'processed' });
    const text = (comment.json.data as { comment: string }).comment;
    const stored = await rows<{ text: string }>(
      db,
      'SELECT text FROM comments WHERE workspace_id = ?',
      DEFAULT_WORKSPACE,
    );
    expect(stored.map((c) => c.text)).toContain(text);
    expect((await overview()).inbox.counts).toMatchObject({ dead: 0, processed: 4 });
  });
});
