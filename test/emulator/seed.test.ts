import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { fixture, getJson, missingKeys } from './helpers.js';

const EPOCH = Date.parse('2025-06-01T00:00:00Z');

describe('seeded organization', () => {
  let a: Emulator;
  let b: Emulator;
  let other: Emulator;
  beforeAll(async () => {
    [a, b, other] = await Promise.all([
      startEmulator({ seed: 42, issues: 300, projects: 4, epoch: EPOCH, now: () => EPOCH + 3_600_000 }),
      startEmulator({ seed: 42, issues: 300, projects: 4, epoch: EPOCH, now: () => EPOCH + 3_600_000 }),
      startEmulator({ seed: 43, issues: 300, projects: 4, epoch: EPOCH }),
    ]);
  });
  afterAll(() => Promise.all([a.close(), b.close(), other.close()]));

  it('is identical for the same seed and differs for another seed', () => {
    expect(JSON.stringify(a.data)).toBe(JSON.stringify(b.data));
    expect(a.clientSecret).toBe(b.clientSecret);
    expect(a.internalToken).toBe(b.internalToken);
    expect(JSON.stringify(other.data)).not.toBe(JSON.stringify(a.data));
  });

  it('serves the same API bodies for the same seed', async () => {
    const path = '/api/0/organizations/acme/issues/?query=&limit=50';
    const body = async (emu: Emulator) => JSON.stringify(await getJson(emu, path)).replaceAll(emu.url, 'URL');
    expect(await body(a)).toBe(await body(b));
  });

  it('has the requested size and realistic spread', () => {
    expect(a.data.projects.map((p) => p.slug)).toEqual([
      'checkout-api',
      'web-app',
      'payments-worker',
      'inventory-service',
    ]);
    expect(a.data.issues).toHaveLength(300);
    const statuses = new Set(a.data.issues.map((i) => i.status));
    expect(statuses).toEqual(new Set(['unresolved', 'resolved', 'ignored']));
    const oldest = Math.min(...a.data.issues.map((i) => Date.parse(i.firstSeen)));
    expect(EPOCH - oldest).toBeGreaterThan(60 * 86_400_000);
    expect(EPOCH - oldest).toBeLessThanOrEqual(121 * 86_400_000);
    for (const issue of a.data.issues) {
      expect(Date.parse(issue.lastSeen)).toBeGreaterThanOrEqual(Date.parse(issue.firstSeen));
      expect(issue.shortId).toMatch(/^[A-Z-]+-[0-9A-Z]+$/);
    }
    expect(new Set(a.data.issues.map((i) => i.shortId)).size).toBe(300);
  });

  it('links in-app frames to files changed by release commits', () => {
    const changed = new Set(a.data.releases.flatMap((r) => r.commits.flatMap((c) => c.files.map((f) => f.filename))));
    const inAppFiles = a.data.issues.flatMap((i) =>
      i.events[0].exception.frames.filter((f) => f.inApp).map((f) => f.filename),
    );
    expect(inAppFiles.filter((f) => changed.has(f)).length).toBeGreaterThan(inAppFiles.length * 0.8);
  });

  it('matches the shapes of real API responses', async () => {
    const issue = a.data.issues.find((i) => i.assignedTo?.type === 'user' && i.firstRelease)!;
    const details = await getJson<Record<string, unknown>>(a, `/api/0/organizations/acme/issues/${issue.id}/`);
    expect(missingKeys(fixture('api/issue.json') as object, details)).toEqual([]);
    expect(typeof details.count).toBe('string');
    expect(typeof details.userCount).toBe('number');
    expect(details.assignedTo).toMatchObject({ type: 'user', id: issue.assignedTo!.id });

    const event = await getJson<
      Record<string, unknown> & {
        entries: { type: string; data: { values: { stacktrace: { frames: object[] } }[] } }[];
        tags: unknown[];
      }
    >(a, `/api/0/organizations/acme/issues/${issue.id}/events/latest/`);
    const apiEvent = fixture('api/event.json') as Record<string, unknown>;
    expect(missingKeys(apiEvent, event)).toEqual([]);
    const frame = event.entries.find((e) => e.type === 'exception')!.data.values[0].stacktrace.frames[0];
    const fixtureFrame = (apiEvent.entries as typeof event.entries)[0].data.values[0].stacktrace.frames[0];
    expect(missingKeys(fixtureFrame, frame)).toEqual([]);
    expect(event.tags).toContainEqual({ key: 'release', value: issue.events[issue.events.length - 1].release });
    expect(event.tags).toContainEqual(expect.objectContaining({ key: 'environment' }));

    const release = a.data.releases[0];
    const v = encodeURIComponent(release.version);
    expect(
      missingKeys(fixture('api/release.json') as object, await getJson(a, `/api/0/organizations/acme/releases/${v}/`)),
    ).toEqual([]);
    const [deploy] = await getJson<object[]>(a, `/api/0/organizations/acme/releases/${v}/deploys/`);
    expect(missingKeys((fixture('api/release-deploys.json') as object[])[0], deploy)).toEqual([]);
    const [commit] = await getJson<object[]>(a, `/api/0/organizations/acme/releases/${v}/commits/`);
    expect(missingKeys((fixture('api/release-commits.json') as object[])[0], commit)).toEqual([]);
    const files = await getJson<{ filename: string; type: string; repoName: string }[]>(
      a,
      `/api/0/organizations/acme/releases/${v}/commitfiles/`,
    );
    expect(files.map((f) => f.filename).sort()).toEqual(
      release.commits.flatMap((c) => c.files.map((f) => f.filename)).sort(),
    );

    const [project] = await getJson<object[]>(a, '/api/0/organizations/acme/projects/');
    expect(missingKeys(fixture('api/project.json') as object, project)).toEqual([]);
    const [team] = await getJson<object[]>(a, '/api/0/organizations/acme/teams/');
    expect(missingKeys(fixture('api/team.json') as object, team)).toEqual([]);
    const [member] = await getJson<{ user: object }[]>(a, '/api/0/organizations/acme/members/');
    expect(missingKeys(fixture('api/user.json') as object, member.user)).toEqual([]);
    const [org] = await getJson<{ links: { regionUrl: string } }[]>(a, '/api/0/organizations/');
    expect(missingKeys(fixture('api/organization.json') as object, org)).toEqual([]);
    expect(org.links.regionUrl).toBe(a.url);
    expect(await getJson(a, '/api/0/organizations/acme/environments/')).toEqual([
      { id: '1', name: 'production' },
      { id: '2', name: 'staging' },
    ]);
  });

  it('serves comments and activity like Sentry', async () => {
    const issue = a.data.issues.find((i) => i.activity.some((x) => x.type === 'note'))!;
    const notes = await getJson<object[]>(a, `/api/0/organizations/acme/issues/${issue.id}/comments/`);
    expect(notes.length).toBe(issue.activity.filter((x) => x.type === 'note').length);
    expect(missingKeys((fixture('api/issue-comments.json') as object[])[0], notes[0])).toEqual([]);
    expect(notes[0]).toMatchObject({ type: 'note', data: { text: expect.any(String) } });
    const activity = await getJson<{ activity: { type: string }[] }>(
      a,
      `/api/0/organizations/acme/issues/${issue.shortId}/activities/`,
    );
    expect(activity.activity.length).toBe(issue.activity.length);
    expect(
      missingKeys((fixture('api/issue-activity.json') as { activity: object[] }).activity[0], activity.activity[0]),
    ).toEqual([]);
  });

  it('answers unknown routes and unknown orgs with 404 JSON', async () => {
    for (const path of [
      '/api/0/whatever/',
      '/api/0/organizations/nope/issues/',
      '/api/0/organizations/acme/issues/999/',
    ]) {
      const res = await fetch(`${a.url}${path}`, { headers: { Authorization: `Bearer ${a.internalToken}` } });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ detail: expect.any(String) });
    }
  });
});
