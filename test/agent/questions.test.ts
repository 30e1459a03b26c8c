import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorData, IssueRecord } from '../../src/sentry/emulator/index.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';

/**
 * Realistic agent questions about the seeded emulator org, asked over MCP as an agent would (search,
 * then drill down). Each answer is computed from the emulator's own data, and the right entity must
 * be among the top 3 of what the tools return.
 */
let service: AgentService;
let client: Client;
let data: EmulatorData;
beforeAll(async () => {
  service = await startAgentService();
  data = service.data;
  client = new Client({ name: 'agent-questions', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${service.keys.default}` } },
    }),
  );
});
afterAll(async () => {
  await client.close();
  await service.close();
});

type Structured = Record<string, unknown> & {
  hits?: { issueId: string; id: string }[];
  items?: { issueId: string | null; release: string | null }[];
};
async function ask(name: string, args: Record<string, unknown>): Promise<Structured> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as Structured;
}
const top3 = (answer: Structured) => (answer.hits ?? []).slice(0, 3).map((h) => h.issueId);
const slugOf = (issue: IssueRecord) => data.projects.find((p) => p.id === issue.projectId)!.slug;
const project = (slug: string) => data.projects.find((p) => p.slug === slug)!;
const prodDeploys = (slug: string) =>
  data.releases
    .filter((r) => r.projectId === project(slug).id)
    .flatMap((r) => r.deploys.filter((d) => d.environment === 'production').map((d) => ({ ...d, version: r.version })));
const biggest = (issues: IssueRecord[], by: 'count' | 'userCount' = 'count') =>
  [...issues].sort((a, b) => b[by] - a[by])[0];
const EPOCH_ISO = '2026-11-20T00:00:00.000Z';

describe('an agent asks, the memory answers', () => {
  it('1. "Which release introduced the ChunkLoadError in web-app?"', async () => {
    const issue = biggest(data.issues.filter((i) => i.metadata.type === 'ChunkLoadError'));
    const found = await ask('search_memory', { query: `ChunkLoadError ${issue.metadata.value}`, project: 'web-app' });
    expect(top3(found)).toContain(issue.id);
    expect((await ask('get_issue_context', { issue: issue.id })).firstRelease).toBe(issue.firstRelease);
  });

  it('2. "What regressed after the last production deploy of <project>?"', async () => {
    const candidates = data.projects.map((p) => {
      const last = prodDeploys(p.slug).sort((a, b) => b.dateFinished.localeCompare(a.dateFinished))[0];
      const regressed = data.issues.filter(
        (i) =>
          i.projectId === p.id &&
          i.activity.some((a) => a.type === 'set_regression' && a.dateCreated >= last.dateFinished),
      );
      return { slug: p.slug, last, regressed };
    });
    const target = candidates.find((c) => c.regressed.length)!;
    const answer = await ask('get_timeline', {
      since: target.last.dateFinished,
      until: EPOCH_ISO,
      project: target.slug,
      kinds: ['regressed'],
    });
    expect(answer.items!.slice(0, 3).map((i) => i.issueId)).toContain(target.regressed[0].id);
  });

  it('3. "Who is assigned to the noisiest unresolved issue in checkout-api?"', async () => {
    const noisiest = biggest(data.issues.filter((i) => slugOf(i) === 'checkout-api' && i.status === 'unresolved'));
    const found = await ask('search_memory', {
      query: 'checkout-api',
      project: 'checkout-api',
      status: 'unresolved',
      sort: 'events',
    });
    expect(top3(found)).toContain(noisiest.id);
    const context = await ask('get_issue_context', { issue: found.hits![0].issueId });
    const assignee = noisiest.assignedTo
      ? noisiest.assignedTo.type === 'user'
        ? data.users.find((u) => u.id === noisiest.assignedTo!.id)!.name
        : data.teams.find((t) => t.id === noisiest.assignedTo!.id)!.slug
      : null;
    expect((context.assignee as { name: string } | null)?.name ?? null).toBe(assignee);
  });

  it('4. "What did Seer find as the root cause of the blooopy error?"', async () => {
    const found = await ask('search_memory', { query: 'blooopy is not defined' });
    expect(top3(found)).toContain('1170820242');
    const context = await ask('get_issue_context', { issue: '1170820242' });
    expect(
      (context.seer as { stage: string; summary: string | null }[]).find((s) => s.stage === 'root_cause')?.summary,
    ).toBeTruthy();
  });

  it('5. "Which issues did the busiest release introduce?"', async () => {
    const release = [...data.releases].sort(
      (a, b) =>
        data.issues.filter((i) => i.firstRelease === b.version).length -
        data.issues.filter((i) => i.firstRelease === a.version).length,
    )[0];
    const answer = await ask('get_release_context', { version: release.version });
    const top = (answer.newIssues as { top: { id: string }[] }).top.slice(0, 3).map((i) => i.id);
    expect(top).toContain(
      biggest(
        data.issues.filter((i) => i.firstRelease === release.version),
        'userCount',
      ).id,
    );
  });

  it('6. "Is payments-worker failing to reach Stripe?"', async () => {
    const stripe = data.issues.filter(
      (i) =>
        slugOf(i) === 'payments-worker' && i.metadata.type === 'ConnectionError' && i.title.includes('api.stripe.com'),
    );
    const found = top3(await ask('search_memory', { query: 'stripe connection', project: 'payments-worker' }));
    // Yes: every top hit is a Stripe connection failure, and the noisiest one still failing (seen in the last two weeks) is among them.
    expect(found.every((id) => stripe.some((i) => i.id === id))).toBe(true);
    expect(found).toContain(
      biggest(stripe.filter((i) => Date.parse(i.lastSeen) >= Date.parse(EPOCH_ISO) - 14 * 86_400_000)).id,
    );
  });

  it('7. "Which commit probably caused this regression?"', async () => {
    const issue = data.issues.find((i) => {
      const release = data.releases.find((r) => r.version === i.firstRelease);
      const frames = i.events
        .at(-1)!
        .exception.frames.filter((f) => f.inApp)
        .map((f) => f.filename);
      return release?.commits.some((c) => c.files.some((f) => frames.includes(f.filename)));
    })!;
    const frames = issue.events
      .at(-1)!
      .exception.frames.filter((f) => f.inApp)
      .map((f) => f.filename);
    const culprit = data.releases
      .find((r) => r.version === issue.firstRelease)!
      .commits.find((c) => c.files.some((f) => frames.includes(f.filename)))!;
    const context = await ask('get_issue_context', { issue: issue.shortId });
    expect((context.suspectCommits as { id: string }[]).slice(0, 3).map((c) => c.id)).toContain(culprit.id);
  });

  it('8. "What went to production this week?"', async () => {
    const latest = data.releases
      .flatMap((r) =>
        r.deploys.filter((d) => d.environment === 'production').map((d) => ({ ...d, version: r.version })),
      )
      .sort((a, b) => b.dateFinished.localeCompare(a.dateFinished))[0];
    const answer = await ask('get_timeline', {
      since: '2026-11-13T00:00:00Z',
      until: EPOCH_ISO,
      kinds: ['deploy'],
      environment: 'production',
    });
    expect(answer.items!.slice(0, 3).map((i) => i.release)).toContain(latest.version);
  });

  it('9. "Did anyone mention a support ticket on an issue?" (the newest mentions first)', async () => {
    const notes = data.issues
      .flatMap((i) => i.activity)
      .filter((a) => a.type === 'note' && String(a.data.text).includes('support ticket'))
      .sort((a, b) => b.dateCreated.localeCompare(a.dateCreated));
    const found = await ask('search_memory', { query: 'support ticket', kinds: ['comment'] });
    expect(found.hits!.slice(0, 3).map((h) => h.id)).toEqual(notes.slice(0, 3).map((n) => n.id));
  });

  it('10. "What new issues appeared in checkout-api most recently?"', async () => {
    const newest = data.issues
      .filter((i) => slugOf(i) === 'checkout-api')
      .sort((a, b) => b.firstSeen.localeCompare(a.firstSeen))[0];
    const answer = await ask('get_timeline', {
      since: '2026-10-20T00:00:00Z',
      until: EPOCH_ISO,
      project: 'checkout-api',
      kinds: ['new'],
    });
    expect(answer.items!.slice(0, 3).map((i) => i.issueId)).toContain(newest.id);
  });

  it('11. "Find the stack overflow in checkout-api"', async () => {
    const issues = data.issues.filter((i) => slugOf(i) === 'checkout-api' && i.metadata.type === 'RangeError');
    const found = await ask('search_memory', { query: 'Maximum call stack size exceeded', project: 'checkout-api' });
    expect(top3(found).some((id) => issues.some((i) => i.id === id))).toBe(true);
    expect(issues.map((i) => i.id)).toContain(found.hits![0].issueId);
  });

  it('12. "What was resolved in web-app lately?"', async () => {
    const resolved = data.issues
      .filter((i) => slugOf(i) === 'web-app')
      .flatMap((i) => i.activity.filter((a) => a.type === 'set_resolved'))
      .sort((a, b) => b.dateCreated.localeCompare(a.dateCreated))[0];
    const answer = await ask('get_timeline', {
      since: '2026-10-20T00:00:00Z',
      until: EPOCH_ISO,
      project: 'web-app',
      kinds: ['resolved'],
    });
    expect(answer.items!.slice(0, 3).map((i) => i.issueId)).toContain(resolved.issueId);
  });

  it('13. "What is this issue?" (pasting a Sentry URL)', async () => {
    const issue = biggest(data.issues.filter((i) => slugOf(i) === 'inventory-service'));
    const context = await ask('get_issue_context', {
      issue: `https://acme.sentry.io/organizations/acme/issues/${issue.id}/?project=${issue.projectId}`,
    });
    expect(context).toMatchObject({
      id: issue.id,
      shortId: issue.shortId,
      errorType: issue.metadata.type,
      culprit: issue.culprit,
    });
  });

  it('14. "Which version of inventory-service runs in production?"', async () => {
    const last = prodDeploys('inventory-service').sort((a, b) => b.dateFinished.localeCompare(a.dateFinished))[0];
    const answer = await ask('get_timeline', {
      since: '2026-09-01T00:00:00Z',
      until: EPOCH_ISO,
      project: 'inventory-service',
      environment: 'production',
      kinds: ['deploy'],
    });
    expect(answer.items![0].release).toBe(last.version);
  });

  it('15. "What regressed lately, and in which release did it come back?"', async () => {
    const issue = data.issues
      .filter((i) => i.substatus === 'regressed')
      .sort((a, b) => b.lastSeen.localeCompare(a.lastSeen))[0];
    const answer = await ask('get_timeline', { since: '2026-11-13T00:00:00Z', until: EPOCH_ISO, kinds: ['regressed'] });
    expect(answer.items!.slice(0, 3).map((i) => i.issueId)).toContain(issue.id);
    const context = await ask('get_issue_context', { issue: issue.id });
    const regression = (context.statusHistory as { type: string; release: string | null }[]).find(
      (h) => h.type === 'issue.regressed',
    );
    expect(regression?.release).toBe(issue.lastRelease);
  });

  it('16. "Which payments-worker issue hurts the most users?"', async () => {
    const worst = biggest(
      data.issues.filter((i) => slugOf(i) === 'payments-worker'),
      'userCount',
    );
    expect(
      top3(await ask('search_memory', { query: 'payments-worker', project: 'payments-worker', sort: 'users' })),
    ).toContain(worst.id);
  });

  it('17. "Which projects does the memory cover, and is it fresh?"', async () => {
    const status = await ask('get_memory_status', {});
    expect((status.projects as { slug: string }[]).map((p) => p.slug)).toEqual(
      expect.arrayContaining(data.projects.map((p) => p.slug)),
    );
    expect((status.freshness as { lastWebhookAt: string | null }).lastWebhookAt).not.toBeNull();
  });
});
