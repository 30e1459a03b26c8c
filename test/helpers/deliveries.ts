import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { fixturesDir } from './fixtures.js';
import { deliver, startTestService } from './runtime.js';
import { memorySnapshot } from './sync.js';

export interface PreparedDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (name: string): Json => JSON.parse(readFileSync(join(fixturesDir, 'webhooks', `${name}.json`), 'utf8'));

/**
 * Real-shaped deliveries (the docs' fixtures) made unique per index: new issue, event and comment
 * ids, so every delivery is a new fact for the inbox and for memory. Mix: issue lifecycle, errors,
 * comments, alerts and Seer.
 */
export function prepareDeliveries(count: number, secret: string): PreparedDelivery[] {
  const templates = {
    issue: load('issue.created'),
    error: load('error.created'),
    comment: load('comment.created'),
    event_alert: load('event_alert.triggered'),
    seer: load('seer.root_cause_completed'),
  };
  const kinds = ['issue', 'error', 'error', 'comment', 'event_alert', 'issue', 'seer', 'error'] as const;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const out: PreparedDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const resource = kinds[i % kinds.length];
    const issueId = String(2_000_000_000 + Math.floor(i / 4));
    const eventId = i.toString(16).padStart(32, '0');
    const t = templates[resource];
    let payload: Json;
    switch (resource) {
      case 'issue':
        payload = {
          ...t,
          action: i % 3 === 0 ? 'created' : 'resolved',
          data: {
            issue: {
              ...t.data.issue,
              id: issueId,
              shortId: `FRONT-END-${issueId}`,
              title: `ReferenceError: var${i % 5000} is not defined`,
              status: i % 3 === 0 ? 'unresolved' : 'resolved',
            },
          },
        };
        break;
      case 'error':
        payload = { ...t, data: { error: { ...t.data.error, event_id: eventId, issue_id: issueId } } };
        break;
      case 'event_alert':
        payload = { ...t, data: { ...t.data, event: { ...t.data.event, event_id: eventId, issue_id: issueId } } };
        break;
      case 'comment':
        payload = {
          ...t,
          data: {
            ...t.data,
            comment_id: i,
            issue_id: Number(issueId),
            comment: `Looked at deploy ${i % 97}: ${i % 2 ? 'rolling back' : 'flaky upstream timeout'}`,
          },
        };
        break;
      case 'seer':
        payload = { ...t, data: { ...t.data, run_id: i, group_id: Number(issueId) } };
        break;
    }
    const body = Buffer.from(JSON.stringify(payload));
    out.push({
      body,
      headers: {
        'content-type': 'application/json',
        'request-id': `delivery-${i}-${eventId.slice(-8)}`,
        'sentry-hook-resource': resource,
        'sentry-hook-timestamp': timestamp,
        'sentry-hook-signature': signBody(secret, body),
      },
    });
  }
  return out;
}

/** POSTs one prepared delivery as Sentry would; the HTTP status, or null when no answer came (refused, reset). */
export async function postDelivery(url: string, delivery: PreparedDelivery): Promise<number | null> {
  try {
    const response = await fetch(`${url}/webhooks/sentry`, {
      method: 'POST',
      body: new Uint8Array(delivery.body),
      headers: delivery.headers,
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

/**
 * The memory the deliveries make without any crash: the same service in-process on embedded SQLite,
 * one at a time, then drained — the reference every engine and deployment must reproduce.
 */
export async function crashFreeSnapshot(deliveries: PreparedDelivery[]) {
  const service = await startTestService({ engine: 'sqlite' });
  try {
    for (const d of deliveries) {
      const response = await deliver(service.app, d.headers['sentry-hook-resource'], d.body, {
        requestId: d.headers['request-id'],
        timestamp: Number(d.headers['sentry-hook-timestamp']),
      });
      expect(response.statusCode).toBe(200);
    }
    await service.runtime.worker.drain();
    expect(await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).toEqual({
      pending: 0,
      processed: deliveries.length,
      skipped: 0,
      dead: 0,
      held: 0,
    });
    return await memorySnapshot(service.runtime.store.db);
  } finally {
    await service.close();
  }
}

/**
 * Sends `deliveries` to `url` 32 at a time, as Sentry does under load, and returns the request ids
 * that got a 200. `kill`, if given, is called once after `killAfterMs` while they are in flight.
 */
export async function sendConcurrently(
  url: string,
  deliveries: PreparedDelivery[],
  kill?: { afterMs: number; run: () => void },
): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  const timer = kill ? setTimeout(kill.run, kill.afterMs) : null;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++];
        if ((await postDelivery(url, delivery)) === 200) acknowledged.push(delivery.headers['request-id']);
      }
    }),
  );
  if (timer) clearTimeout(timer);
  return acknowledged;
}
