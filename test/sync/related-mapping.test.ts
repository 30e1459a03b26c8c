import { describe, expect, it } from 'vitest';
import type { EventRecord, InsightRecord, ObservationRecord } from '../../src/memory/records.js';
import { eventSchema } from '../../src/sentry/api/schemas.js';
import { mapActivity } from '../../src/sentry/mapping/api.js';
import { groupingKeys, mapEvent } from '../../src/sentry/mapping/event.js';
import { resolvedInCommit } from '../../src/sentry/mapping/observations.js';
import { mapWebhookEvent } from '../../src/sentry/mapping/webhook.js';
import { parseWebhook } from '../../src/sentry/webhooks/payloads.js';
import { apiFixture, webhookFixture } from '../helpers/fixtures.js';

const at = '2026-01-01T00:00:00.000Z';
type Json = Record<string, unknown>;

function webhookRecords(name: string, edit: (body: Json) => void = () => undefined) {
  const body = structuredClone(webhookFixture(name).json);
  edit(body);
  const parsed = parseWebhook(name.split('.')[0], body, at);
  if (!parsed.ok) throw new Error(parsed.reason);
  return mapWebhookEvent(parsed.event);
}

describe('what relates issues, from Sentry’s payloads', () => {
  it('an event’s grouping keys: its hashes, and a custom fingerprint but never the bare default', () => {
    const error = webhookRecords('error.created').find((r): r is EventRecord => r.kind === 'event')!;
    expect(error.fingerprint).toEqual(['hash:07d2da329989f6cd310eb5f1c5e828a4']);
    const api = mapEvent(eventSchema.parse(apiFixture('event')) as Json, at);
    expect(api.fingerprint).toEqual(['hash:60d1c667b173018c004e399b29dc927d']);
    expect(groupingKeys({ fingerprint: ['{{ default }}', 'checkout'], hashes: ['ab'] })).toEqual([
      'hash:ab',
      'fingerprint:["{{ default }}","checkout"]',
    ]);
    expect(groupingKeys({ fingerprint: ['{{ default }}'] })).toBeNull();
  });

  it('the files a Seer root cause points at, without its N/A steps', () => {
    const insight = webhookRecords('seer.root_cause_completed').find((r): r is InsightRecord => r.kind === 'insight')!;
    expect(insight.files).toEqual(['src/app/page.ts']);
    const started = webhookRecords('seer.root_cause_started').find((r): r is InsightRecord => r.kind === 'insight')!;
    expect(started.files).toBeUndefined();
  });

  it('the release and commit an issue was resolved in, from a webhook and from the activity log', () => {
    const resolved = webhookRecords('issue.created', (body) => {
      body.action = 'resolved';
      const issue = (body.data as { issue: Json }).issue;
      issue.status = 'resolved';
      issue.statusDetails = { inRelease: 'web@1.2.3', inCommit: { id: 'abc123def4567890', repository: 'acme/web' } };
    }).find((r): r is ObservationRecord => r.kind === 'observation' && r.type === 'issue.resolved')!;
    expect(resolved).toMatchObject({ release: 'web@1.2.3', data: { commit: 'abc123def4567890' } });
    expect(resolved.summary).toContain('in release web@1.2.3 in commit abc123def456');

    const [fromLog] = mapActivity(
      {
        id: '9',
        type: 'set_resolved_in_commit',
        dateCreated: at,
        data: { commit: { id: 'f00dfeed', message: 'fix' } },
      },
      '42',
      'APP-1',
      'web',
    ) as ObservationRecord[];
    expect(fromLog).toMatchObject({ type: 'issue.resolved', release: null, data: { commit: 'f00dfeed' } });
    const [inRelease] = mapActivity(
      { id: '10', type: 'set_resolved_in_release', dateCreated: at, data: { version: 'web@2.0.0' } },
      '42',
      'APP-1',
      'web',
    ) as ObservationRecord[];
    expect(inRelease).toMatchObject({ release: 'web@2.0.0', data: null });
    expect(resolvedInCommit({ commit: 'deadbeef', repository: 'acme/web' })).toBe('deadbeef');
    expect(resolvedInCommit(null)).toBeNull();
  });
});
