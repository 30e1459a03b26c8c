import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../../src/agent/budget.js';
import { DEFAULT_WORKSPACE } from '../../../src/config.js';
import type { EmulatorData } from '../../../src/sentry/emulator/index.js';
import { relatedFamily, type RelatedFamily } from '../../../src/sentry/emulator/related.js';
import { groupingHash } from '../../../src/sentry/emulator/serialize.js';
import { mapWebhookEvent } from '../../../src/sentry/mapping/webhook.js';
import { parseWebhook } from '../../../src/sentry/webhooks/payloads.js';
import { getRelatedIssues } from '../../../src/memory/context/related-issues.js';
import { MemoryStore } from '../../../src/memory/store.js';
import { startEmulator } from '../../../src/sentry/emulator/index.js';
import { agentFixture, call, text } from '../../helpers/agent-service.js';
import { createTestDatabase } from '../../helpers/database.js';
import { syncFor } from '../../helpers/sync.js';
import { runCliAsync } from '../../helpers/cli.js';
import { webhookFixture } from '../../helpers/fixtures.js';

const fx = agentFixture({ related: true });

type Issue = EmulatorData['issues'][number];

interface Related {
  id: string;
  shortId: string | null;
  project: string | null;
  status: string | null;
  reasons: string[];
  resolvedIn: { at: string | null; release: string | null; commit: string | null; comment: string | null } | null;
}
interface RelatedAnswer {
  issue: string;
  related: Related[];
}

/** The emulator's issues of a family, oldest first. */
function family(name: RelatedFamily): Issue[] {
  return fx.service.data.issues
    .filter((i) => relatedFamily(i) === name)
    .sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
}

const projectSlug = (issue: Issue) => fx.service.data.projects.find((p) => p.id === issue.projectId)!.slug;

async function related(issue: Issue, args: Record<string, unknown> = {}): Promise<RelatedAnswer> {
  const answer = await call(fx.client, 'find_related_issues', { issue: issue.shortId, ...args });
  expect(answer.isError, text(answer)).toBeFalsy();
  return answer.structuredContent as unknown as RelatedAnswer;
}

/** How the emulator says an issue was resolved: its resolving activity and its newest note. */
function resolutionOf(issue: Issue) {
  const resolved = issue.activity.filter((a) => a.type.startsWith('set_resolved')).at(-1)!;
  const note = issue.activity.filter((a) => a.type === 'note').at(-1)!;
  return { resolved, note: note.data.text as string };
}

describe('find_related_issues', () => {
  it('finds the same error type and culprit in another project, resolved in a commit, and no look-alike', async () => {
    const [older, newer] = family('coupon');
    expect(projectSlug(older)).not.toBe(projectSlug(newer));
    const got = await related(newer);
    expect(got.issue).toBe(newer.id);
    expect(got.related[0]).toMatchObject({
      id: older.id,
      shortId: older.shortId,
      project: projectSlug(older),
      status: 'resolved',
      reasons: ['type_culprit', 'frame'],
    });
    const { resolved, note } = resolutionOf(older);
    expect(got.related[0].resolvedIn).toEqual({
      at: resolved.dateCreated,
      release: null,
      commit: (resolved.data.commit as { id: string }).id,
      comment: expect.stringContaining(note),
    });
    const controls = family('control').map((i) => i.id);
    expect(got.related.map((r) => r.id)).not.toEqual(expect.arrayContaining([controls[0]]));
    expect(got.related.some((r) => controls.includes(r.id))).toBe(false);
  });

  it('finds the same top in-app frame whatever the message, and nothing that shares only the error type', async () => {
    const [older, newer] = family('money');
    expect(older.metadata.type).not.toBe(newer.metadata.type);
    const got = await related(newer);
    expect(got.related.find((r) => r.id === older.id)).toMatchObject({ reasons: ['frame'], resolvedIn: null });
    const others = new Set([...family('control'), ...family('coupon'), ...family('cart')].map((i) => i.id));
    expect(got.related.filter((r) => others.has(r.id))).toEqual([]);

    for (const control of family('control')) {
      const answer = await related(control);
      // TypeError like the coupon, cart and other controls, but with its own culprit and frames.
      expect(answer.related).toEqual([]);
    }
  });

  it('an issue re-created with the fingerprint of a resolved one finds it, with its release and comment', async () => {
    const [resolvedOne, recreated] = family('cart');
    expect(recreated.culprit).not.toBe(resolvedOne.culprit);
    expect(Date.parse(recreated.firstSeen)).toBeGreaterThan(Date.parse(resolvedOne.lastSeen));
    const got = await related(recreated);
    const { resolved, note } = resolutionOf(resolvedOne);
    expect(got.related[0]).toEqual({
      id: resolvedOne.id,
      shortId: resolvedOne.shortId,
      title: resolvedOne.title,
      project: projectSlug(resolvedOne),
      status: 'resolved',
      lastSeen: resolvedOne.lastSeen,
      reasons: ['fingerprint'],
      resolvedIn: {
        at: resolved.dateCreated,
        release: resolved.data.version as string,
        commit: null,
        comment: expect.stringContaining(note),
      },
    });
    const controls = new Set(family('control').map((i) => i.id));
    expect(got.related.some((r) => controls.has(r.id))).toBe(false);
  });

  it('get_issue_context says it was seen before and how that one was fixed, within its default budget', async () => {
    const [resolvedOne, recreated] = family('cart');
    const answer = await call(fx.client, 'get_issue_context', { issue: recreated.id });
    const { seenBefore } = answer.structuredContent as { seenBefore: Related[] };
    expect(seenBefore[0]).toMatchObject({ id: resolvedOne.id, reasons: ['fingerprint'] });
    expect(seenBefore[0].resolvedIn?.release).toBe(resolutionOf(resolvedOne).resolved.data.version);
    expect(text(answer)).toMatch(
      new RegExp(`### Seen before\\n- \\*\\*${resolvedOne.shortId}\\*\\* .*same fingerprint; resolved .* in release `),
    );
    expect(estimateTokens(text(answer))).toBeLessThanOrEqual(1500);
  });

  it('answers over HTTP and the CLI alike', async () => {
    const [older, newer] = family('coupon');
    const mcp = await related(newer, { limit: 1 });
    expect(mcp.related.map((r) => r.id)).toEqual([older.id]);
    const headers = { authorization: `Bearer ${fx.service.keys.default}` };
    const http = await fetch(`${fx.service.url}/api/v1/issues/${newer.shortId}/related?limit=1`, { headers });
    expect(http.status).toBe(200);
    expect(((await http.json()) as RelatedAnswer).related).toEqual(mcp.related);
    const missing = await fetch(`${fx.service.url}/api/v1/issues/NOPE-1/related`, { headers });
    expect(missing.status).toBe(404);

    const cli = await runCliAsync([
      'issue',
      newer.id,
      '--related',
      '--limit',
      '1',
      '--db',
      fx.service.location,
      '--json',
    ]);
    expect(cli.status, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as RelatedAnswer).related).toEqual(mcp.related);
    const markdown = await runCliAsync(['issue', newer.shortId, '--related', '--db', fx.service.location]);
    expect(markdown.stdout).toMatch(/## Seen before: /);
    expect(markdown.stdout).toContain(`**${older.shortId}**`);
    expect(markdown.stdout).toContain('same error type and culprit, same top in-app frame');
  });

  it('an issue known only from a webhook event with that fingerprint finds the resolved one too', async () => {
    const [resolvedOne] = family('cart');
    const fixture = webhookFixture('error.created');
    const body = structuredClone(fixture.json) as { data: { error: Record<string, unknown> } };
    body.data.error = {
      ...body.data.error,
      event_id: 'f'.repeat(32),
      issue_id: '9900000001',
      fingerprint: resolvedOne.fingerprint,
      hashes: [groupingHash(resolvedOne)],
    };
    await fx.service.runtime.inbox.enqueue({
      workspaceId: DEFAULT_WORKSPACE,
      source: 'sentry',
      deliveryId: 'related-error',
      resource: 'error',
      action: 'created',
      externalId: null,
      sentAt: '2026-11-19T12:00:00.000Z',
      body: JSON.stringify(body),
    });
    await fx.service.runtime.worker.drain();
    const answer = await call(fx.client, 'find_related_issues', { issue: '9900000001' });
    const got = answer.structuredContent as unknown as RelatedAnswer;
    const found = got.related.find((r) => r.id === resolvedOne.id);
    expect(found?.reasons).toEqual(['fingerprint']);
    expect(found?.resolvedIn?.release).toBe(resolutionOf(resolvedOne).resolved.data.version);
  });

  it('Seer root causes that cite the same file relate their issues', async () => {
    const [coupon] = family('coupon');
    const [money, moneyToo] = family('money');
    const fixture = webhookFixture('seer.root_cause_completed');
    const cite = (issue: Issue, runId: number) => {
      const body = structuredClone(fixture.json) as { data: Record<string, unknown> };
      body.data.group_id = issue.id;
      body.data.run_id = runId;
      const steps = (body.data.root_cause as { steps: { relevant_code_file: { file_path: string } }[] }).steps;
      for (const step of steps)
        if (step.relevant_code_file.file_path !== 'N/A') step.relevant_code_file.file_path = 'src/lib/pricing.ts';
      const parsed = parseWebhook('seer', body, '2026-11-19T10:00:00.000Z');
      if (!parsed.ok) throw new Error(parsed.reason);
      return mapWebhookEvent(parsed.event);
    };
    await fx.service.runtime.store.apply(DEFAULT_WORKSPACE, 'sentry', [...cite(coupon, 901), ...cite(money, 902)]);
    const got = await related(money);
    expect(got.related.find((r) => r.id === coupon.id)?.reasons).toEqual(['seer_file']);
    expect(got.related.find((r) => r.id === moneyToo.id)?.reasons).toEqual(['frame']);
  });
});

describe('related issues after a sync', () => {
  it('are what the emulator’s API says, read through a real sync', async () => {
    const emu = await startEmulator({
      seed: 3,
      issues: 30,
      projects: 2,
      related: true,
      rateLimit: { perSecond: 100_000 },
    });
    const db = await createTestDatabase();
    const store = await MemoryStore.open(db.location);
    try {
      await syncFor(emu, store).run();
      const byFamily = (name: RelatedFamily) =>
        emu.data.issues.filter((i) => relatedFamily(i) === name).sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
      const [resolvedOne, recreated] = byFamily('cart');
      const got = await getRelatedIssues(store.db, DEFAULT_WORKSPACE, recreated.shortId);
      const found = got.related.find((r) => r.id === resolvedOne.id);
      expect(found?.reasons).toEqual(['fingerprint']);
      const resolved = resolvedOne.activity.find((a) => a.type === 'set_resolved_in_release')!;
      expect(found?.resolvedIn).toMatchObject({ release: resolved.data.version, at: resolved.dateCreated });
      const [older, newer] = byFamily('coupon');
      const coupon = await getRelatedIssues(store.db, DEFAULT_WORKSPACE, newer.id);
      expect(coupon.related[0]).toMatchObject({ id: older.id, reasons: ['type_culprit', 'frame'] });
      const controls = new Set(byFamily('control').map((i) => i.id));
      expect(coupon.related.some((r) => controls.has(r.id))).toBe(false);
    } finally {
      await store.close();
      await emu.close();
      await db.cleanup();
    }
  });
});
