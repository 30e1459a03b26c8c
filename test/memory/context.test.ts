import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getIssueContext, SUSPECT_DEPLOY_WINDOW_MS } from '../../src/memory/context/issue-context.js';
import { getOverview } from '../../src/memory/context/overview.js';
import { Inbox } from '../../src/queue/inbox.js';
import { getReleaseContext } from '../../src/memory/context/release-context.js';
import { searchMemory } from '../../src/memory/context/search.js';
import { getTimeline } from '../../src/memory/context/timeline.js';
import { NotInMemoryError, QueryError } from '../../src/memory/context/errors.js';
import type { MemoryStore } from '../../src/memory/store.js';
import { openTestStore } from '../helpers/database.js';
import { BASE_URL, emulatorRecords, EPOCH, seededOrganization } from '../helpers/emulator-memory.js';

const ws = 'default';
const { data, store: emu } = seededOrganization();
let store: MemoryStore;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ store, close } = await openTestStore());
  await store.apply(ws, 'sentry', emulatorRecords(emu));
});
afterAll(async () => {
  await close();
});

const now = new Date(EPOCH).toISOString();
const slug = (projectId: string) => data.projects.find((p) => p.id === projectId)!.slug;

describe('search', () => {
  it('finds an issue by the words of its message, with its ids and impact', async () => {
    const issue = data.issues.find((i) => i.metadata.type === 'ChunkLoadError')!;
    const { hits } = await searchMemory(store.db, ws, {
      text: `${issue.metadata.value} ${issue.metadata.function}`,
      now: EPOCH,
    });
    expect(hits[0]).toMatchObject({
      kind: 'issue',
      id: issue.id,
      issueId: issue.id,
      shortId: issue.shortId,
      project: slug(issue.projectId),
      count: issue.count,
      userCount: issue.userCount,
    });
  });

  it('every filter narrows to matching issues only', async () => {
    const production = new Set(
      data.issues.filter((i) => i.events.at(-1)?.environment === 'production').map((i) => i.id),
    );
    const checks: [Omit<Parameters<typeof searchMemory>[2], 'now'>, (id: string) => boolean][] = [
      [
        { text: 'error', project: 'WEB-APP' },
        (id) => slug(data.issues.find((i) => i.id === id)!.projectId) === 'web-app',
      ],
      [{ text: 'error', status: 'resolved' }, (id) => data.issues.find((i) => i.id === id)!.status === 'resolved'],
      [{ text: 'error', level: 'warning' }, (id) => data.issues.find((i) => i.id === id)!.level === 'warning'],
      [{ text: 'error', environment: 'production' }, (id) => production.has(id)],
      [
        { text: 'error', since: new Date(EPOCH - 3 * 86_400_000).toISOString() },
        (id) => Date.parse(data.issues.find((i) => i.id === id)!.lastSeen) >= EPOCH - 3 * 86_400_000,
      ],
    ];
    for (const [query, holds] of checks) {
      const { hits } = await searchMemory(store.db, ws, { ...query, kinds: ['issue'], limit: 50, now: EPOCH });
      expect(hits.length).toBeGreaterThan(0);
      for (const hit of hits) expect(holds(hit.issueId!)).toBe(true);
    }
    const release = data.releases.find((r) => data.issues.some((i) => i.firstRelease === r.version))!;
    const inRelease = (
      await searchMemory(store.db, ws, {
        text: 'error',
        release: release.version,
        kinds: ['issue'],
        limit: 50,
        now: EPOCH,
      })
    ).hits;
    for (const hit of inRelease) {
      const issue = data.issues.find((i) => i.id === hit.issueId)!;
      expect([issue.firstRelease, issue.lastRelease, ...issue.events.map((e) => e.release)]).toContain(release.version);
    }
  });

  it('finds comments by their text, pointing at their issue', async () => {
    const commented = data.issues.find((i) => i.activity.some((a) => a.type === 'note'))!;
    const note = commented.activity.find((a) => a.type === 'note')!;
    const { hits } = await searchMemory(store.db, ws, {
      text: String(note.data.text),
      kinds: ['comment'],
      limit: 50,
      now: EPOCH,
    });
    expect(hits.map((h) => h.id)).toContain(note.id);
    expect(hits.find((h) => h.id === note.id)).toMatchObject({ issueId: commented.id, shortId: commented.shortId });
  });

  it('pages without overlap, and says when no record has every word', async () => {
    const first = await searchMemory(store.db, ws, { text: 'TypeError', limit: 5, now: EPOCH });
    const second = await searchMemory(store.db, ws, { text: 'TypeError', limit: 5, offset: 5, now: EPOCH });
    expect(first.more).toBe(true);
    expect(new Set([...first.hits, ...second.hits].map((h) => h.id)).size).toBe(10);
    expect(await searchMemory(store.db, ws, { text: 'TypeError zzzunknownword', now: EPOCH })).toMatchObject({
      match: 'any-word',
    });
    await expect(searchMemory(store.db, ws, { text: '"*( )', now: EPOCH })).rejects.toThrow(QueryError);
  });

  it('puts the newest mention first, ahead of an older, wordier one on a noisier issue, whatever the date', async () => {
    // Two notes added to a seeded org, as Sentry's activity API would list them, then mapped like a sync.
    const org = seededOrganization();
    const [noisy, quiet] = [...org.data.issues]
      .sort((a, b) => b.count - a.count)
      .filter((_, i, all) => i === 0 || i === all.length - 1);
    const userId = org.data.members[0].userId;
    const day = 86_400_000;
    const note = (issue: typeof noisy, id: string, text: string, at: number) =>
      issue.activity.push({
        id,
        issueId: issue.id,
        type: 'note',
        userId,
        data: { text },
        dateCreated: new Date(at).toISOString(),
      });
    note(
      noisy,
      '900000001',
      'Support ticket #4411: the customer opened a support ticket, then another support ticket about the same refund.',
      EPOCH - 20 * day,
    );
    note(quiet, '900000002', 'Linked the support ticket.', EPOCH - day);
    await store.apply('mentions', 'sentry', emulatorRecords(org.store));
    for (const at of [EPOCH, EPOCH + 365 * day]) {
      const { hits } = await searchMemory(store.db, 'mentions', {
        text: 'support ticket',
        kinds: ['comment'],
        limit: 50,
        now: at,
      });
      const mine = hits.filter((h) => h.id.startsWith('90000000')).map((h) => h.id);
      expect(mine).toEqual(['900000002', '900000001']);
      // And every mention comes newest first.
      expect(hits.map((h) => h.occurredAt)).toEqual(
        hits
          .map((h) => h.occurredAt)
          .sort()
          .reverse(),
      );
    }
  });
});

describe('issue context', () => {
  const issue = data.issues.find((i) => i.substatus === 'regressed')!;
  const assigned = data.issues.find((i) => i.assignedTo?.type === 'user')!;

  it('resolves an id, a short id (any case) and a Sentry URL to the same issue', async () => {
    for (const ref of [
      issue.id,
      issue.shortId.toLowerCase(),
      `${BASE_URL}/organizations/acme/issues/${issue.id}/?project=1`,
      `https://acme.sentry.io/issues/${issue.shortId}/`,
    ]) {
      expect((await getIssueContext(store.db, ws, ref, EPOCH)).id).toBe(issue.id);
    }
    await expect(getIssueContext(store.db, ws, 'NOPE-1', EPOCH)).rejects.toThrow(NotInMemoryError);
    await expect(getIssueContext(store.db, ws, 'https://example.com/nothing', EPOCH)).rejects.toThrow(QueryError);
  });

  it('says what it is, how bad, since when, who owns it and its history', async () => {
    const user = data.users.find((u) => u.id === assigned.assignedTo!.id)!;
    const member = data.members.find((m) => m.userId === user.id)!;
    expect((await getIssueContext(store.db, ws, assigned.id, EPOCH)).assignee).toEqual({
      type: 'user',
      id: user.id,
      name: user.name,
      email: user.email,
      teams: [...member.teamSlugs].sort(),
    });
    const context = await getIssueContext(store.db, ws, issue.id, EPOCH);
    expect(context).toMatchObject({
      shortId: issue.shortId,
      title: issue.title,
      errorType: issue.metadata.type,
      message: issue.metadata.value,
      culprit: issue.culprit,
      status: 'unresolved',
      substatus: 'regressed',
      count: issue.count,
      userCount: issue.userCount,
      firstSeen: issue.firstSeen,
      firstRelease: issue.firstRelease,
      lastRelease: issue.lastRelease,
    });
    const inApp = issue.events
      .at(-1)!
      .exception.frames.filter((f) => f.inApp)
      .map((f) => f.filename);
    for (const frame of context.topFrames) expect(inApp).toContain(frame.filename);
    expect(context.statusHistory.map((h) => h.type)).toEqual(
      expect.arrayContaining(['issue.created', 'issue.regressed']),
    );
  });

  it('suspect deploys are of its project shortly before it appeared or regressed; suspect commits touch its frames', async () => {
    let deploys = 0;
    let commits = 0;
    for (const candidate of data.issues) {
      const context = await getIssueContext(store.db, ws, candidate.id, EPOCH);
      const project = slug(candidate.projectId);
      const moments = [
        Date.parse(candidate.firstSeen),
        ...context.statusHistory.filter((h) => h.type === 'issue.regressed').map((h) => Date.parse(h.occurredAt)),
      ];
      for (const d of context.suspectDeploys) {
        const release = data.releases.find((r) => r.version === d.release)!;
        expect(slug(release.projectId)).toBe(project);
        expect(
          moments.some(
            (m) => Date.parse(d.finishedAt) <= m && m - Date.parse(d.finishedAt) <= SUSPECT_DEPLOY_WINDOW_MS,
          ),
        ).toBe(true);
        deploys += 1;
      }
      const frames = context.topFrames.map((f) => f.filename);
      for (const c of context.suspectCommits) {
        const commit = data.releases.find((r) => r.version === c.release)!.commits.find((x) => x.id === c.id)!;
        expect([candidate.firstRelease, candidate.lastRelease]).toContain(c.release);
        for (const file of c.files) {
          expect(commit.files.map((f) => f.filename)).toContain(file);
          expect(frames).toContain(file);
        }
        commits += 1;
      }
    }
    expect(deploys).toBeGreaterThan(0);
    expect(commits).toBeGreaterThan(0);
  });
});

describe('timeline', () => {
  const since = new Date(EPOCH - 7 * 86_400_000).toISOString();

  it('counts what happened in the window and pages through all of it, newest first', async () => {
    const created = data.issues.filter((i) => i.firstSeen >= since && i.firstSeen < now).length;
    const first = await getTimeline(store.db, ws, { since, until: now, kinds: ['new', 'deploy'], limit: 7 });
    expect(first.counts.new).toBe(created);
    expect(first.counts.deploy).toBe(
      data.releases.flatMap((r) => r.deploys).filter((d) => d.dateFinished >= since && d.dateFinished < now).length,
    );
    const seen: string[] = [];
    let page = first;
    for (;;) {
      seen.push(...page.items.map((i) => i.id));
      if (!page.nextCursor) break;
      page = await getTimeline(store.db, ws, {
        since,
        until: now,
        kinds: ['new', 'deploy'],
        limit: 7,
        cursor: page.nextCursor,
      });
    }
    expect(seen.length).toBe((first.counts.new ?? 0) + (first.counts.deploy ?? 0));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('narrows to a project and an environment', async () => {
    const web = await getTimeline(store.db, ws, { since, until: now, project: 'web-app', limit: 200 });
    expect(web.items.length).toBeGreaterThan(0);
    for (const item of web.items) expect(item.project).toBe('web-app');
    const staging = await getTimeline(store.db, ws, {
      since,
      until: now,
      environment: 'staging',
      kinds: ['deploy'],
      limit: 200,
    });
    for (const item of staging.items) expect(item.environment).toBe('staging');
    await expect(getTimeline(store.db, ws, { since: now, until: since })).rejects.toThrow(QueryError);
    await expect(getTimeline(store.db, ws, { since, until: now, cursor: 'garbage' })).rejects.toThrow(QueryError);
  });
});

describe('release context and overview', () => {
  it('a release: its deploys, the issues first seen in it, its commits', async () => {
    const release = [...data.releases].sort(
      (a, b) =>
        data.issues.filter((i) => i.firstRelease === b.version).length -
        data.issues.filter((i) => i.firstRelease === a.version).length,
    )[0];
    const context = await getReleaseContext(store.db, ws, release.version, EPOCH);
    const introduced = data.issues.filter((i) => i.firstRelease === release.version);
    expect(context.newIssues.total).toBe(introduced.length);
    expect(context.newIssues.top.map((i) => i.id).sort()).toEqual(
      introduced
        .slice(0, 25)
        .map((i) => i.id)
        .sort(),
    );
    expect(context.deploys.map((d) => d.environment)).toEqual(release.deploys.map((d) => d.environment));
    expect(context.commits.map((c) => c.id).sort()).toEqual(release.commits.map((c) => c.id).sort());
    const short = release.version.split('@')[1];
    if (data.releases.filter((r) => r.version.endsWith(`@${short}`)).length === 1)
      expect((await getReleaseContext(store.db, ws, short, EPOCH)).version).toBe(release.version);
    else await expect(getReleaseContext(store.db, ws, short, EPOCH)).rejects.toThrow(/names several releases/);
    await expect(getReleaseContext(store.db, ws, 'nope@0.0.0', EPOCH)).rejects.toThrow(NotInMemoryError);
  });

  it('overview: every project with its issue count', async () => {
    const overview = await getOverview(store.db, ws, await new Inbox(store.db).activity(ws), EPOCH);
    expect(overview.projects).toEqual(
      data.projects
        .map((p) => ({
          slug: p.slug,
          issues: data.issues.filter((i) => i.projectId === p.id).length,
          lastSeen: expect.any(String),
        }))
        .sort((a, b) => a.slug.localeCompare(b.slug)),
    );
    expect(overview.freshness.stale).toBe(true);
  });
});
