import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { getIssueTags } from '../../src/memory/context/issue-tags.js';
import { TAG_VALUES_KEPT } from '../../src/memory/issue-tags.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import type { IssueRecord } from '../../src/sentry/emulator/model.js';
import { issueTagCounts, TOP_VALUES } from '../../src/sentry/emulator/tags.js';
import { getJson } from '../emulator/helpers.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { startTestService, type TestService } from '../helpers/runtime.js';
import { syncFor } from '../helpers/sync.js';

const ws = DEFAULT_WORKSPACE;
const T = EPOCH;
const iso = (ms: number) => new Date(ms).toISOString();

interface ApiTag {
  key: string;
  totalValues: number;
  topValues: { value: string; count: number }[];
}

/** An issue's tag counts as the emulator's API gives them: `/tags/`, plus `/tags/{key}/values/` where top values are cut off. */
async function apiCounts(
  emu: Emulator,
  issueId: string,
): Promise<Map<string, { total: number; values: Map<string, number> }>> {
  const base = `/api/0/organizations/${emu.orgSlug}/issues/${issueId}/tags/`;
  const counts = new Map<string, { total: number; values: Map<string, number> }>();
  for (const tag of await getJson<ApiTag[]>(emu, base)) {
    const shown = tag.topValues.reduce((sum, v) => sum + v.count, 0);
    // Both lists name values: with ties at the cut, `topValues` and the values page can name different ones.
    const values = [
      ...tag.topValues,
      ...(shown < tag.totalValues
        ? await getJson<{ value: string; count: number }[]>(emu, `${base}${tag.key}/values/?sort=-count&per_page=100`)
        : []),
    ];
    counts.set(tag.key, { total: tag.totalValues, values: new Map(values.map((v) => [v.value, v.count])) });
  }
  return counts;
}

/** What memory should hold for those counts: each key's kept values, busiest first (ties by value). */
function expectedTags(counts: Map<string, { total: number; values: Map<string, number> }>) {
  return [...counts]
    .map(([key, { total, values }]) => {
      const kept = [...values]
        .map(([value, count]) => ({ value, count, share: count / total }))
        .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1))
        .slice(0, TAG_VALUES_KEPT);
      return { key, total, other: total - kept.reduce((sum, v) => sum + v.count, 0), values: kept };
    })
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function storedTags(service: TestService, issueId: string) {
  const { tags } = await getIssueTags(service.runtime.store.db, ws, issueId, { limit: TAG_VALUES_KEPT });
  return tags.map(({ name: _name, ...tag }) => tag).sort((a, b) => (a.key < b.key ? -1 : 1));
}

let deliveries = 0;
/** An error.created delivery (Sentry's own fixture, retargeted) through the inbox and the worker. */
async function deliverError(
  service: TestService,
  issue: IssueRecord,
  event: { id: string; at: number; tags: Record<string, string> },
): Promise<void> {
  const fixture = webhookFixture('error.created');
  const body = structuredClone(fixture.json) as { data: { error: Record<string, unknown> } };
  Object.assign(body.data.error, {
    event_id: event.id,
    issue_id: issue.id,
    project: Number(issue.projectId),
    datetime: iso(event.at),
    timestamp: event.at / 1000,
    tags: Object.entries(event.tags),
  });
  deliveries += 1;
  await service.runtime.inbox.enqueue({
    workspaceId: ws,
    source: 'sentry',
    deliveryId: `tags-${deliveries}`,
    resource: 'error',
    action: 'created',
    externalId: null,
    sentAt: iso(T),
    body: JSON.stringify(body),
  });
  await service.runtime.worker.drain();
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ seed: 8, issues: 120, now: () => T, rateLimit: { perSecond: 100_000 } });
});
afterAll(async () => {
  await emu?.close();
});

/** The seeded issue with more users than Sentry's top values show. */
const crowded = () =>
  emu.data.issues.find((i) => (issueTagCounts(i).find((t) => t.key === 'user')?.values.length ?? 0) > TOP_VALUES)!;

describe('tag distributions from a sync', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startTestService({ now: () => T });
  });
  afterAll(async () => {
    await service?.close();
  });

  it('equal the emulator API’s, reading the values endpoint where top values are cut off; then events add up once', async () => {
    const summary = await syncFor(emu, service.runtime.store, { tagRequestBudget: 10_000 }).run();
    expect(summary.issueTags).toEqual({ fetched: emu.data.issues.length, skippedForBudget: 0 });
    for (const issue of emu.data.issues)
      expect(await storedTags(service, issue.id)).toEqual(expectedTags(await apiCounts(emu, issue.id)));
    const issue = crowded();
    const users = (await storedTags(service, issue.id)).find((t) => t.key === 'user')!;
    expect(users.values.length).toBeGreaterThan(TOP_VALUES);

    // Every issue's tags are now current: a second sync reads none.
    expect((await syncFor(emu, service.runtime.store, { tagRequestBudget: 10_000 }).run()).issueTags).toEqual({
      fetched: 0,
      skippedForBudget: 0,
    });

    const atSync = await apiCounts(emu, issue.id);
    const after = { id: 'a'.repeat(32), at: T + 60_000, tags: { browser: 'Safari 17.5', plan: 'enterprise' } };
    await deliverError(service, issue, after);
    // Before the sync's snapshot: Sentry's counts hold it already.
    await deliverError(service, issue, { id: 'b'.repeat(32), at: T - 3_600_000, tags: { browser: 'Opera 100' } });
    // The same event again (a redelivery): stored once, counted once.
    await deliverError(service, issue, after);
    expect(await service.runtime.store.counts(ws)).toMatchObject({ events: emu.data.issues.length + 2 });
    for (const [key, value] of Object.entries(after.tags)) {
      const tag = atSync.get(key) ?? atSync.set(key, { total: 0, values: new Map() }).get(key)!;
      tag.total += 1;
      tag.values.set(value, (tag.values.get(value) ?? 0) + 1);
    }
    expect(await storedTags(service, issue.id)).toEqual(expectedTags(atSync));
  });
});

describe('a webhook before the first sync', () => {
  it('counts its event until the sync, whose counts already hold it', async () => {
    const service = await startTestService({ now: () => T });
    try {
      const issue = crowded();
      await deliverError(service, issue, { id: 'c'.repeat(32), at: T - 3_600_000, tags: { browser: 'Opera 100' } });
      expect(await storedTags(service, issue.id)).toEqual([
        { key: 'browser', total: 1, other: 0, values: [{ value: 'Opera 100', count: 1, share: 1 }] },
      ]);
      await syncFor(emu, service.runtime.store, { tagRequestBudget: 10_000 }).run();
      expect(await storedTags(service, issue.id)).toEqual(expectedTags(await apiCounts(emu, issue.id)));
    } finally {
      await service.close();
    }
  });
});

describe('the request budget', () => {
  it('reads the busiest issues first and says how many it left for later', async () => {
    const service = await startTestService({ now: () => T });
    try {
      const budget = 5;
      const before = emu.stats.requests;
      const summary = await syncFor(emu, service.runtime.store, {
        tagRequestBudget: budget,
        streams: ['issues'],
      }).run();
      const tags = summary.issueTags!;
      expect(tags.fetched).toBeGreaterThan(0);
      expect(tags.fetched).toBeLessThanOrEqual(budget);
      expect(tags.fetched + tags.skippedForBudget).toBe(emu.data.issues.length);
      const busiest = [...emu.data.issues]
        .sort((a, b) => b.count - a.count || b.lastSeen.localeCompare(a.lastSeen) || (a.id < b.id ? -1 : 1))
        .slice(0, tags.fetched);
      for (const issue of busiest)
        expect(await storedTags(service, issue.id)).toEqual(expectedTags(await apiCounts(emu, issue.id)));
      // The sync itself: issue pages, each issue's event and activity, and at most the budget for tags.
      const pages = summary.streams.issues!.pages;
      expect(summary.requests).toBeLessThanOrEqual(pages + 2 * emu.data.issues.length + budget);
      expect(emu.stats.requests - before).toBeGreaterThanOrEqual(summary.requests);
    } finally {
      await service.close();
    }
  });
});
