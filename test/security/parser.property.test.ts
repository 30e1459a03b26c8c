import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { MemoryStore } from '../../src/memory/store.js';
import { applyRecords } from '../../src/memory/writer.js';
import { PermanentError, type InboxRow } from '../../src/queue/delivery.js';
import { createSentryProcessor } from '../../src/sentry/webhooks/process.js';
import { openTestStore } from '../helpers/database.js';
import { mutatedFixture } from './malformed.js';

let store: MemoryStore;
let close: () => Promise<void>;
const processor = createSentryProcessor();
beforeAll(async () => {
  ({ store, close } = await openTestStore());
});
afterAll(async () => {
  await close();
});

/** Rolls the transaction back after `fn`: each case starts from the same (empty) memory. */
class Rollback extends Error {}

function row(resource: string, body: string): InboxRow {
  return {
    seq: 1,
    workspace_id: DEFAULT_WORKSPACE,
    delivery_id: 'd',
    source: 'sentry',
    resource,
    action: null,
    external_id: null,
    sent_at: '2026-11-20T10:00:00.000Z',
    received_at: '2026-11-20T10:00:00.000Z',
    body,
    state: 'pending',
    attempts: 0,
    next_attempt_at: '2026-11-20T10:00:00.000Z',
    processed_at: null,
    last_error: null,
  };
}

/**
 * What the worker does with a stored delivery — parse, map, merge — on fixture bodies with wrong
 * types, nulls, huge strings and deep nesting anywhere. Each either becomes memory, is skipped, or is
 * refused with a PermanentError naming the problem; nothing else (a TypeError, RangeError or SQLite
 * binding error would be retried as if transient and then dead-lettered without a useful reason).
 */
describe('webhook parser and mapper on malformed fixture bodies', () => {
  it('map, skip or raise a clear PermanentError, never anything else', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutatedFixture, async ({ fixture, body }) => {
        try {
          await store.db.transaction(async (tx) => {
            const outcome = await processor(tx, row(fixture.resource, body));
            if ('records' in outcome) await applyRecords(tx, DEFAULT_WORKSPACE, 'sentry', outcome.records);
            else expect(outcome.skip).toMatch(/\S/);
            throw new Rollback();
          });
        } catch (error) {
          if (error instanceof Rollback) return;
          if (!(error instanceof PermanentError)) throw error;
          expect(error.message).toMatch(new RegExp(`^invalid ${fixture.resource}|^invalid webhook envelope`));
          refused += 1;
        }
      }),
      { numRuns: 6_000 },
    );
    // The mutations reach the fields processing relies on, so some deliveries must be refused.
    expect(refused).toBeGreaterThan(0);
  });
});
