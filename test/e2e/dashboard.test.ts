import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { createApiKey, revokeApiKey } from '../../src/memory/api-keys.js';
import { ConnectionRepository } from '../../src/sentry/auth/connections.js';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { SyncLeases } from '../../src/sentry/sync/lease.js';
import { EPOCH } from '../helpers/emulator-memory.js';
import { syncFor } from '../helpers/sync.js';
import { startAgentService, type AgentService } from '../helpers/agent-service.js';
import { allowComments, REFUSAL, refuseComments } from '../helpers/refuse-writes.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { deliver } from '../helpers/runtime.js';
import type {
  EventsChart,
  InboxPage,
  IssueContext,
  IssueTags,
  IssueTrend,
  Overview,
  ReleaseContext,
  SearchAnswer,
  Session,
  Status,
} from '../../web/src/api-types.js';
import { buildFrontEnd, openBrowser, SCREENSHOTS } from './browser.js';

const engine = process.env.SENTRY_MEMORY_TEST_ENGINE ?? 'sqlite';

let service: AgentService;
let emu: Emulator;
let web: Awaited<ReturnType<typeof buildFrontEnd>>;
let browser: Awaited<ReturnType<typeof openBrowser>>;
let context: BrowserContext;
let page: Page;
/** Script errors and CSP violations the page reports: there must be none. */
const problems: string[] = [];

beforeAll(async () => {
  web = await buildFrontEnd();
  service = await startAgentService({ webRoot: web.root });
  // The same organization once more through a real sync from the emulator, so the overview has a
  // connection with streams, checkpoints and a finished sync to show.
  emu = await startEmulator({ seed: 7, projects: 4, issues: 300, epoch: EPOCH, now: () => EPOCH });
  const db = service.runtime.store.db;
  const connection = await new ConnectionRepository(db, DEFAULT_WORKSPACE, randomBytes(32)).save({
    orgSlug: emu.orgSlug,
    apiUrl: emu.url,
    auth: { kind: 'internal', token: emu.internalToken },
  });
  const acquired = await new SyncLeases(db, DEFAULT_WORKSPACE).tryAcquire(connection.id);
  if (!('lease' in acquired)) throw new Error('the new connection is already being synced');
  await acquired.lease.run(() =>
    syncFor(emu, service.runtime.store, { connectionId: connection.id, now: () => EPOCH }).run(),
  );
  browser = await openBrowser();
  context = browser.context;
  page = await context.newPage();
  // A step that cannot happen fails with what it waited for, well inside the test's own timeout.
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A refused request (401 on purpose, 404 for the other workspace) is logged by the browser too.
    if (message.type() === 'error' && !/status of (401|404)/.test(message.text()))
      problems.push(`console: ${message.text()}`);
  });
}, 180_000);
afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await service?.close();
  await emu?.close();
  await web?.remove();
});

/** The API's own answer, asked with a key (not the browser's session). */
async function apiGet<T>(path: string, key = service.keys.default): Promise<T> {
  const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

const digits = (text: string | null) => Number((text ?? '').replace(/\D/g, ''));
const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${engine}-${name}.png`), fullPage: true });

async function signIn(key: string) {
  await page.goto(`${service.url}/sign-in`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function heading(text: string) {
  try {
    await page.getByRole('heading', { level: 1, name: text }).waitFor();
  } catch (error) {
    // What the page showed instead, for whoever reads the failure.
    await shot(`failed-${text.replace(/\W+/g, '-')}`);
    throw error;
  }
}

describe('the web dashboard in a real browser', { timeout: 90_000 }, () => {
  it('sends a visitor without a session to sign-in, and refuses a key it does not know, saying why', async () => {
    await page.goto(`${service.url}/issues/FRONT-END-9`);
    await page.waitForURL((url) => url.pathname === '/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/issues/FRONT-END-9');
    await page.getByLabel('API key').fill('smk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/not valid \(unknown or revoked\)/);
    await shot('sign-in');
  });

  it('signs in with a key and shows the overview with the API’s counts', async () => {
    await signIn(service.keys.default);
    await heading('Overview');
    expect(new URL(page.url()).pathname).toBe('/');
    await page.getByTestId('inbox-counts').waitFor();
    await page.getByTestId('projects').waitFor();
    const overview = await apiGet<Overview>('/api/v1/overview');
    for (const [state, n] of Object.entries(overview.inbox.counts)) {
      expect(digits(await page.locator(`[data-state="${state}"] dd`).textContent()), state).toBe(n);
    }
    // Each connection's streams, with their state, as the API has them.
    const streams = await page.locator('[data-connection]').evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-connection'),
        streams: Array.from(el.querySelectorAll('tbody tr')).map((tr) => [
          tr.querySelector('th')?.textContent,
          tr.querySelector('.badge')?.textContent,
        ]),
      })),
    );
    expect(streams).toEqual(
      overview.connections.map((c) => ({ id: c.id, streams: c.streams.map((s) => [s.stream, s.state]) })),
    );
    expect(streams.some((c) => c.streams.length > 0)).toBe(true);
    const status = await apiGet<Status>('/api/v1/status');
    const shown = await page
      .locator('[data-testid="projects"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-project'), r.querySelector('td')?.textContent]));
    expect(shown.map(([slug, issues]) => [slug, digits(issues ?? '')])).toEqual(
      status.projects.map((p) => [p.slug ?? '', p.issues]),
    );
    expect(shown.map(([slug]) => slug)).toEqual(expect.arrayContaining(service.data.projects.map((p) => p.slug)));
    // Times are the viewer's, with UTC on hover.
    expect(await page.locator('main time').first().getAttribute('title')).toMatch(/ UTC$/);
    await shot('overview');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('overview-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('follows a deploy marker of the timeline to its release, and on to an issue with the API’s trend and tags', async () => {
    const chart = await apiGet<EventsChart>('/api/v1/charts/events?since=30d&interval=hour');
    // A deploy whose release brought new issues, to go on from.
    let found: { target: EventsChart['deploys'][number]; release: ReleaseContext } | undefined;
    for (const deploy of [...chart.deploys].reverse()) {
      const answer = await apiGet<ReleaseContext>(
        `/api/v1/releases/${encodeURIComponent(deploy.release)}?maxTokens=20000`,
      );
      if (answer.newIssues.top.length) {
        found = { target: deploy, release: answer };
        break;
      }
    }
    expect(found).toBeDefined();
    const { target, release } = found!;
    await page.getByRole('link', { name: 'Timeline' }).click();
    await heading('Timeline');
    await page.getByRole('link', { name: '30 days' }).click();
    await page.waitForURL((url) => url.searchParams.get('window') === '30d');
    await page.locator('.marker-deploy').first().waitFor();
    expect(await page.locator('.marker-deploy').count()).toBe(chart.deploys.length);
    await shot('timeline');
    // Keyboard: the marker is a real link.
    const marker = page.getByRole('link', { name: `Deploy of ${target.release} to ${target.environment}` }).first();
    await marker.focus();
    await page.keyboard.press('Enter');
    await heading(target.release);
    expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/releases/${target.release}`);
    await page.locator('#deploys').waitFor();
    expect(await page.locator('[data-deploy]').count()).toBe(release.deploys.length);
    const newIssues = page.getByTestId('new-issues').getByRole('link');
    expect(await newIssues.count()).toBe(release.newIssues.top.length);
    await shot('release');

    const issue = release.newIssues.top[0];
    await newIssues.first().click();
    await page.waitForURL((url) => url.pathname === `/issues/${encodeURIComponent(issue.shortId ?? issue.id)}`);
    const context = await apiGet<IssueContext>(`/api/v1/issues/${issue.id}`);
    await page.getByTestId('impact').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(context.title);
    expect(digits(await page.locator('[data-stat="events"] dd').textContent())).toBe(context.count);
    expect(digits(await page.locator('[data-stat="users"] dd').textContent())).toBe(context.userCount);
    const trend = await apiGet<IssueTrend>(`/api/v1/issues/${issue.id}/trend?interval=hour`);
    const total = page.getByTestId('trend-total');
    await total.waitFor();
    expect(Number(await total.getAttribute('data-total'))).toBe(
      trend.counts.reduce((a: number, b: number) => a + b, 0),
    );
    const tags = await apiGet<IssueTags>(`/api/v1/issues/${issue.id}/tags?limit=10&maxTokens=20000`);
    expect(tags.tags.length).toBeGreaterThan(0);
    await page.locator('[data-tag]').first().waitFor();
    const shownTags = await page.locator('[data-tag]').evaluateAll((els) =>
      els.map((el) => ({
        key: el.getAttribute('data-tag'),
        values: Array.from(el.querySelectorAll('li[data-value]')).map((li) => ({
          value: li.getAttribute('data-value'),
          count: Number(li.getAttribute('data-count')),
        })),
      })),
    );
    expect(shownTags).toEqual(
      tags.tags.map((t) => ({
        key: t.key,
        values: t.values.map((v) => ({ value: v.value, count: v.count })),
      })),
    );
    if (context.permalink) {
      expect(await page.getByRole('link', { name: 'Open in Sentry' }).getAttribute('href')).toBe(context.permalink);
    }
    await shot('issue');
  });

  it('retries a dead-lettered delivery and shows it applied', async () => {
    // A comment on a known issue while comment writes fail: every attempt fails, and it ends dead.
    const target = service.data.issues[0];
    const text = `dashboard retry check ${engine}`;
    const fixture = webhookFixture('comment.created');
    const body = JSON.stringify({
      ...fixture.json,
      data: {
        ...(fixture.json.data as object),
        comment: text,
        comment_id: 987_654,
        issue_id: Number(target.id),
        project_slug: service.data.projects.find((p) => p.id === target.projectId)!.slug,
      },
    });
    await refuseComments(service.runtime.store.db);
    const sent = await deliver(service.app, 'comment', body, { timestamp: Math.floor(EPOCH / 1000) });
    expect(sent.statusCode).toBe(200);
    let dead: InboxPage['items'][number] | undefined;
    while (!dead) {
      await service.runtime.worker.drain();
      dead = (await apiGet<InboxPage>('/api/v1/inbox?state=dead')).items.find((d) => d.lastError === REFUSAL);
      if (!dead) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await allowComments(service.runtime.store.db);

    await page.getByRole('link', { name: 'Overview' }).click();
    await heading('Overview');
    const row = page.locator(`tr[data-seq="${dead.seq}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain(REFUSAL);
    const processedBefore = digits(await page.locator('[data-state="processed"] dd').textContent());
    await shot('overview-dead-letter');
    await page.getByRole('button', { name: `Retry #${dead.seq}` }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Delivery #${dead.seq} is pending again` })
      .waitFor();

    await service.runtime.worker.drain();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await row.waitFor({ state: 'detached' });
    const overview = await apiGet<Overview>('/api/v1/overview');
    expect(overview.inbox.counts.processed).toBe(processedBefore + 1);
    await page
      .locator('[data-state="processed"] dd')
      .filter({ hasText: new RegExp(`^${overview.inbox.counts.processed.toLocaleString('en-US')}$`) })
      .waitFor();
    // Applied: the comment is on its issue's page.
    const comments = (await apiGet<IssueContext>(`/api/v1/issues/${target.id}?maxTokens=20000`)).comments;
    expect(comments.map((c) => c.text)).toContain(text);
    await page.goto(`${service.url}/issues/${target.id}`);
    await page.locator('#comments').getByText(text).waitFor();
  });

  it('searches with the agent’s search and links each result to its issue', async () => {
    const issue = service.data.issues.find((i) => i.count > 100)!;
    const words = issue.metadata.value!;
    const answer = await apiGet<SearchAnswer>(`/api/v1/search?q=${encodeURIComponent(words)}&limit=25`);
    expect(answer.hits.length).toBeGreaterThan(0);
    await page.getByRole('link', { name: 'Search' }).click();
    await heading('Search');
    await page.getByLabel('Words').fill(words);
    await page.getByLabel('Words').press('Enter');
    await page.getByTestId('results').waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe(words);
    const shown = await page
      .getByTestId('results')
      .locator('li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-issue')));
    expect(shown).toEqual(answer.hits.map((h) => h.issueId ?? ''));
    await shot('search');
    const first = answer.hits[0];
    await page.getByTestId('results').getByRole('link').first().click();
    await page.waitForURL((url) => url.pathname === `/issues/${encodeURIComponent(first.shortId ?? first.issueId!)}`);
    await page.getByTestId('impact').waitFor();
  });

  it('signs out: the session ends for the pages and for the API', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');
    await page.getByText('You are signed out.').waitFor();
    expect((await context.request.get(`${service.url}/api/v1/session`)).status()).toBe(401);
    expect((await context.request.get(`${service.url}/api/v1/status`)).status()).toBe(401);
    await page.goto(`${service.url}/timeline`);
    await page.waitForURL((url) => url.pathname === '/sign-in');
  });

  it('a revoked key ends its session: the next page goes back to sign-in, saying why', async () => {
    const { key, info } = await createApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, 'revoked in the test');
    await signIn(key);
    await heading('Overview');
    // Every request of the overview answered, so the refusal comes from the next page.
    await page.getByTestId('projects').waitFor();
    await page.getByTestId('inbox-counts').waitFor();
    await page.locator('#dead-letters .empty').waitFor();
    expect(await revokeApiKey(service.runtime.store.db, DEFAULT_WORKSPACE, info.id)).toBe(true);
    await page.getByRole('link', { name: 'Timeline' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');
    await page.getByText(/Your session ended/).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/timeline');
  });

  it("another workspace's key sees its own workspace only: refused the default one's issue, in the page and the API", async () => {
    await signIn(service.keys.other);
    await heading('Overview');
    await page.getByTestId('projects').waitFor();
    const slugs = await page
      .locator('[data-testid="projects"] tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-project')));
    expect(slugs).toEqual(service.otherData.projects.map((p) => p.slug).sort());
    await page.goto(`${service.url}/issues/FRONT-END-9`);
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/no issue "FRONT-END-9"/);
    expect((await context.request.get(`${service.url}/api/v1/issues/FRONT-END-9`)).status()).toBe(404);
    expect((await context.request.get(`${service.url}/api/v1/session`)).status()).toBe(200);
    expect(((await (await context.request.get(`${service.url}/api/v1/session`)).json()) as Session).workspaceId).toBe(
      'other',
    );
    await shot('other-workspace-issue');
  });
});
