import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../../src/agent/budget.js';
import { issueTagCounts } from '../../../src/sentry/emulator/tags.js';
import { agentFixture, call, text } from '../../helpers/agent-service.js';
import { runCliAsync } from '../../helpers/cli.js';

const fx = agentFixture();

interface TagsAnswer {
  issue: string;
  tags: { key: string; total: number; other: number; values: { value: string; count: number; share: number }[] }[];
}

/** The seeded issue hit almost only in one browser (see emulator/tags.ts), and that browser's share in its project. */
function dominatedIssue() {
  const issue = fx.service.data.issues.find((i) => {
    const browser = issueTagCounts(i).find((t) => t.key === 'browser');
    return browser && browser.total >= 20 && browser.values[0].count / browser.total >= 0.9;
  })!;
  const browser = issueTagCounts(issue).find((t) => t.key === 'browser')!;
  const inProject = fx.service.data.issues
    .filter((i) => i.projectId === issue.projectId)
    .flatMap((i) => i.events.flatMap((e) => e.tags.filter((t) => t.key === 'browser')));
  const projectShare = inProject.filter((t) => t.value === browser.values[0].value).length / inProject.length;
  return { issue, browser, projectShare };
}

describe('get_issue_tags', () => {
  it('gives each key the emulator’s counts, most frequent first, with shares of its events', async () => {
    const { issue } = dominatedIssue();
    const answer = await call(fx.client, 'get_issue_tags', { issue: issue.shortId, limit: 20 });
    const got = answer.structuredContent as unknown as TagsAnswer;
    expect(got.issue).toBe(issue.id);
    const expected = issueTagCounts(issue);
    expect(got.tags.map((t) => t.key).sort()).toEqual(expected.map((t) => t.key).sort());
    for (const tag of expected) {
      const stored = got.tags.find((t) => t.key === tag.key)!;
      expect(stored.total).toBe(tag.total);
      const kept = tag.values.slice(0, 20);
      expect(stored.values).toEqual(kept.map((v) => ({ value: v.value, count: v.count, share: v.count / tag.total })));
      expect(stored.other).toBe(tag.total - kept.reduce((sum, v) => sum + v.count, 0));
    }
    expect(text(answer)).toMatch(/### browser \(\d+ events\)\n- Firefox 127\.0: 9\d%/);
  });

  it('one key, a few values, over MCP, HTTP and the CLI alike', async () => {
    const { issue, browser } = dominatedIssue();
    const mcp = (await call(fx.client, 'get_issue_tags', { issue: issue.id, key: 'browser', limit: 1 }))
      .structuredContent as unknown as TagsAnswer;
    expect(mcp.tags).toEqual([
      {
        key: 'browser',
        name: 'Browser',
        total: browser.total,
        other: 0,
        values: [
          {
            value: browser.values[0].value,
            count: browser.values[0].count,
            share: browser.values[0].count / browser.total,
          },
        ],
      },
    ]);
    const http = await fetch(`${fx.service.url}/api/v1/issues/${issue.shortId}/tags?key=browser&limit=1`, {
      headers: { authorization: `Bearer ${fx.service.keys.default}` },
    });
    expect(http.status).toBe(200);
    expect(((await http.json()) as TagsAnswer).tags).toEqual(mcp.tags);
    const missing = await fetch(`${fx.service.url}/api/v1/issues/NOPE-1/tags`, {
      headers: { authorization: `Bearer ${fx.service.keys.default}` },
    });
    expect(missing.status).toBe(404);

    const cli = await runCliAsync(['issue', issue.id, '--tags', 'browser', '--db', fx.service.location, '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as TagsAnswer).tags[0].values[0]).toEqual({
      value: browser.values[0].value,
      count: browser.values[0].count,
      share: browser.values[0].count / browser.total,
    });
    const markdown = await runCliAsync(['issue', issue.id, '--tags', '--db', fx.service.location]);
    expect(markdown.stdout).toMatch(/## Tags of /);
  });

  it('a webhook-only issue has the tags of its delivered event', async () => {
    // The error.created fixture (FRONT-END-9) names its browser and OS.
    const got = (await call(fx.client, 'get_issue_tags', { issue: 'FRONT-END-9', key: 'browser' }))
      .structuredContent as unknown as TagsAnswer;
    expect(got.tags[0].values).toEqual([{ value: 'Chrome 75.0.3770', count: 1, share: 1 }]);
  });
});

describe('get_issue_context: who is affected', () => {
  it('names the browser far above the project’s usual mix, within the default budget', async () => {
    const { issue, browser, projectShare } = dominatedIssue();
    expect(projectShare).toBeLessThan(0.5);
    const answer = await call(fx.client, 'get_issue_context', { issue: issue.id });
    const affected = (
      answer.structuredContent as { affected: { key: string; value: string; share: number; projectShare: number }[] }
    ).affected;
    const hit = affected.find((a) => a.key === 'browser')!;
    expect(hit).toMatchObject({ value: browser.values[0].value, share: browser.values[0].count / browser.total });
    expect(hit.projectShare).toBeCloseTo(projectShare, 6);
    expect(text(answer)).toMatch(
      /### Who is affected\n(- .*\n)*- browser \*\*Firefox 127\.0\*\*: 9\d% of events \(project: \d+%\)/,
    );
    expect(estimateTokens(text(answer))).toBeLessThanOrEqual(1500);
  });
});
