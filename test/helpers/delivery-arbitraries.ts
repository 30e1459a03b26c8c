import fc from 'fast-check';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import type { Delivery } from '../../src/queue/delivery.js';
import { SENTRY_SOURCE } from '../../src/sentry/source.js';
import { webhookFixture } from './fixtures.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Generators of Sentry delivery sequences for the batching property tests: real fixture bodies over
 * a few issues, many facts about one issue within one second (ties the merge breaks by arrival),
 * re-deliveries and, at most once, a poison delivery.
 */

const ISSUE_IDS = ['2100000001', '2100000002', '2100000003', '2100000004'];
/** Sentry-Hook-Timestamp of the first second; facts land within the next three. */
const BASE_MS = Date.parse('2026-11-20T10:00:00.000Z');
const SEER_STAGES = [
  'root_cause_started',
  'root_cause_completed',
  'solution_started',
  'solution_completed',
  'coding_started',
  'coding_completed',
  'pr_created',
] as const;
const USER_ACTOR = { type: 'user', id: 1, name: 'colleen' };
const APP_ACTOR = { type: 'application', id: 'sentry', name: 'Sentry' };
const ASSIGNEES = [
  null,
  { type: 'user', id: '11', name: 'Ada', email: 'ada@example.com' },
  { type: 'team', id: '7', name: 'backend' },
];

export type Fact =
  | {
      kind: 'issue';
      action: 'created' | 'resolved' | 'assigned' | 'ignored' | 'unresolved';
      issue: number;
      second: number;
      byUser: boolean;
      status: 'unresolved' | 'resolved' | 'ignored';
      assignee: number;
      count: number;
      userCount: number;
      priority: 'high' | 'medium' | 'low';
    }
  | { kind: 'error' | 'event_alert'; issue: number; event: number; second: number }
  | {
      kind: 'comment';
      action: 'created' | 'updated' | 'deleted';
      issue: number;
      comment: number;
      text: number;
      second: number;
    }
  | { kind: 'seer'; stage: (typeof SEER_STAGES)[number]; issue: number; second: number }
  | { kind: 'metric_alert'; action: 'critical' | 'warning' | 'resolved'; incident: number; second: number };

/** A sequence step: a new delivery, or one sent before again (same delivery id, or the same body under a new id). */
export type Step = { fresh: Fact } | { repeat: number; sameId: boolean };

export interface Scenario {
  issues: number;
  steps: Step[];
  poison: { at: number; kind: 'json' | 'schema' } | null;
}

const second = fc.integer({ min: 0, max: 2 });

function fact(issues: number): fc.Arbitrary<Fact> {
  const issue = fc.integer({ min: 0, max: issues - 1 });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('issue' as const),
        action: fc.constantFrom('created', 'resolved', 'assigned', 'ignored', 'unresolved'),
        issue,
        second,
        byUser: fc.boolean(),
        status: fc.constantFrom('unresolved', 'resolved', 'ignored'),
        assignee: fc.integer({ min: 0, max: ASSIGNEES.length - 1 }),
        count: fc.integer({ min: 1, max: 40 }),
        userCount: fc.integer({ min: 1, max: 5 }),
        priority: fc.constantFrom('high', 'medium', 'low'),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constantFrom('error' as const, 'event_alert' as const),
        issue,
        event: fc.integer({ min: 0, max: 4 }),
        second,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('comment' as const),
        action: fc.constantFrom('created', 'updated', 'deleted'),
        issue,
        comment: fc.integer({ min: 0, max: 1 }),
        text: fc.integer({ min: 0, max: 2 }),
        second,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('seer' as const),
        stage: fc.constantFrom(...SEER_STAGES),
        issue,
        second,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('metric_alert' as const),
        action: fc.constantFrom('critical', 'warning', 'resolved'),
        incident: fc.integer({ min: 0, max: 1 }),
        second,
      }),
    },
  );
}

export function scenario(maxSteps = 30): fc.Arbitrary<Scenario> {
  return fc.integer({ min: 2, max: 4 }).chain((issues) =>
    fc.record({
      issues: fc.constant(issues),
      steps: fc.array(
        fc.oneof(
          { weight: 5, arbitrary: fact(issues).map((f): Step => ({ fresh: f })) },
          { weight: 1, arbitrary: fc.record({ repeat: fc.nat(), sameId: fc.boolean() }) },
        ),
        { minLength: 6, maxLength: maxSteps },
      ),
      poison: fc.option(fc.record({ at: fc.nat(), kind: fc.constantFrom('json' as const, 'schema' as const) }), {
        nil: null,
      }),
    }),
  );
}

export interface GeneratedDeliveries {
  /** In enqueue order, re-deliveries included. */
  deliveries: Delivery[];
  poisonId: string | null;
  /** Per issue id, the distinct event ids delivered: what event and tag counts must count once each. */
  eventsByIssue: Map<string, Set<string>>;
}

const eventId = (issue: number, event: number) => `${issue + 1}`.padStart(16, '0') + `${event + 1}`.padStart(16, '0');

/**
 * The deliveries a scenario stands for. Delivery ids sort in arrival order (the inbox stores a group
 * commit's deliveries in key order on PostgreSQL): one group commit gives the seqs of one at a time.
 */
export function deliveriesOf(s: Scenario): GeneratedDeliveries {
  type Item = { delivery: Omit<Delivery, 'deliveryId'>; sameAs: number | null; label: string };
  const items: Item[] = [];
  const fresh: number[] = [];
  const eventsByIssue = new Map<string, Set<string>>();
  for (const step of s.steps) {
    if ('fresh' in step) {
      fresh.push(items.length);
      items.push({ delivery: toDelivery(step.fresh), sameAs: null, label: 'fresh' });
      if (step.fresh.kind === 'error' || step.fresh.kind === 'event_alert') {
        const issueId = ISSUE_IDS[step.fresh.issue];
        const ids = eventsByIssue.get(issueId) ?? new Set<string>();
        eventsByIssue.set(issueId, ids.add(eventId(step.fresh.issue, step.fresh.event)));
      }
    } else if (fresh.length) {
      const original = fresh[step.repeat % fresh.length];
      items.push({ delivery: items[original].delivery, sameAs: step.sameId ? original : null, label: 'copy' });
    }
  }
  if (s.poison) {
    const body =
      s.poison.kind === 'json'
        ? '{"action": "created", "data": {"issue": '
        : // Valid JSON, but not the shape of an issue delivery: dead at its first attempt.
          JSON.stringify({ action: 'created', data: { issue: { title: 42 } } });
    const poison = {
      delivery: { ...envelope('issue', 'created', BASE_MS), body },
      sameAs: null,
      label: `poison-${s.poison.kind}`,
    };
    const at = s.poison.at % (items.length + 1);
    // Items after it move up one: so do the originals they repeat.
    for (const item of items) if (item.sameAs !== null && item.sameAs >= at) item.sameAs += 1;
    items.splice(at, 0, poison);
  }
  const ids = items.map((item, i) => `${String(i).padStart(3, '0')}-${item.label}`);
  const deliveries = items.map((item, i) => ({ ...item.delivery, deliveryId: ids[item.sameAs ?? i] }));
  const poisonId = s.poison ? ids[items.findIndex((item) => item.label.startsWith('poison'))] : null;
  return { deliveries, poisonId, eventsByIssue };
}

function envelope(resource: string, action: string, sentMs: number): Omit<Delivery, 'deliveryId' | 'body'> {
  return {
    workspaceId: DEFAULT_WORKSPACE,
    source: SENTRY_SOURCE,
    resource,
    action,
    externalId: null,
    sentAt: new Date(sentMs).toISOString(),
  };
}

function toDelivery(f: Fact): Omit<Delivery, 'deliveryId'> {
  const sentMs = BASE_MS + f.second * 1000;
  const { resource, action, payload } = payloadOf(f);
  return { ...envelope(resource, action, sentMs), body: JSON.stringify(payload) };
}

const clone = (name: string): Json => structuredClone(webhookFixture(name).json) as Json;

function payloadOf(f: Fact): { resource: string; action: string; payload: Json } {
  switch (f.kind) {
    case 'issue': {
      const p = clone('issue.created');
      const id = ISSUE_IDS[f.issue];
      const status =
        f.action === 'created'
          ? 'unresolved'
          : f.action === 'resolved'
            ? 'resolved'
            : f.action === 'ignored'
              ? 'ignored'
              : f.action === 'unresolved'
                ? 'unresolved'
                : f.status;
      const substatus = {
        unresolved: f.action === 'created' ? 'new' : 'ongoing',
        resolved: null,
        ignored: 'archived_until_escalating',
      }[status];
      p.action = f.action;
      p.actor = f.byUser ? USER_ACTOR : APP_ACTOR;
      Object.assign(p.data.issue, {
        id,
        shortId: `FRONT-END-${f.issue + 1}`,
        title: `ReferenceError: var${f.issue} is not defined`,
        status,
        substatus,
        statusDetails: f.action === 'resolved' ? { inRelease: 'frontend@1.2.0' } : {},
        assignedTo: ASSIGNEES[f.assignee],
        count: String(f.count),
        userCount: f.userCount,
        priority: f.priority,
        lastSeen: new Date(BASE_MS - (40 - f.count) * 60_000).toISOString(),
      });
      return { resource: 'issue', action: f.action, payload: p };
    }
    case 'error':
    case 'event_alert': {
      const p = clone(f.kind === 'error' ? 'error.created' : 'event_alert.triggered');
      // One event, whichever delivery brings it: the same body (the error fixture's), time and tag
      // value. Hours apart, so that counts span buckets.
      const occurredMs = BASE_MS - (f.event * 5 + f.issue) * 1_500_000;
      const event: Json = {
        ...(clone('error.created').data.error as Json),
        event_id: eventId(f.issue, f.event),
        issue_id: ISSUE_IDS[f.issue],
        datetime: new Date(occurredMs).toISOString(),
        timestamp: occurredMs / 1000,
        received: occurredMs / 1000,
      };
      event.tags = [...(event.tags as unknown[]), ['customer', `c${f.event % 3}`]];
      if (f.kind === 'error') p.data.error = event;
      else p.data.event = event;
      return { resource: f.kind, action: p.action as string, payload: p };
    }
    case 'comment': {
      const p = clone('comment.created');
      p.action = f.action;
      Object.assign(p.data, {
        comment_id: `${f.issue + 1}0${f.comment}`,
        issue_id: Number(ISSUE_IDS[f.issue]),
        comment: ['flaky upstream timeout', 'rolling back the deploy', 'fixed by #42'][f.text],
        timestamp: new Date(BASE_MS - (f.comment + 1) * 3_600_000 + 118).toISOString(),
      });
      return { resource: 'comment', action: f.action, payload: p };
    }
    case 'seer': {
      const p = clone(`seer.${f.stage}`);
      Object.assign(p.data, { group_id: Number(ISSUE_IDS[f.issue]), run_id: 500 + f.issue });
      return { resource: 'seer', action: f.stage, payload: p };
    }
    case 'metric_alert': {
      const p = clone('metric_alert.resolved');
      p.action = f.action;
      p.data.metric_alert.id = String(4 + f.incident);
      return { resource: 'metric_alert', action: f.action, payload: p };
    }
  }
}
