import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { api, parseLink } from './helpers.js';

describe('Link-header pagination', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 5, issues: 3000, projects: 5, rateLimit: { perSecond: 10_000 } });
  });
  afterAll(() => emu.close());

  it('writes both links exactly as Sentry does, with results telling if next is real', async () => {
    const res = await api(emu, '/api/0/organizations/acme/projects/');
    const header = res.headers.get('link')!;
    expect(header).toMatch(
      /^<http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/projects\/\?&cursor=100:-1:1>; rel="previous"; results="false"; cursor="100:-1:1", <http:\/\/127\.0\.0\.1:\d+\/api\/0\/organizations\/acme\/projects\/\?&cursor=100:1:0>; rel="next"; results="false"; cursor="100:1:0"$/,
    );
    // The next link is present even though it is empty; following it returns [].
    const next = await fetch(parseLink(header).next.url, { headers: { Authorization: `Bearer ${emu.internalToken}` } });
    expect(await next.json()).toEqual([]);
  });

  it('returns every issue exactly once when paging with the next cursor', async () => {
    const seen: string[] = [];
    let url: string | null = `${emu.url}/api/0/organizations/acme/issues/?query=&sort=date&limit=100`;
    let pages = 0;
    while (url) {
      const res: Response = await fetch(url, { headers: { Authorization: `Bearer ${emu.internalToken}` } });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { id: string; lastSeen: string }[];
      expect(page.length).toBeLessThanOrEqual(100);
      seen.push(...page.map((i) => i.id));
      const link = parseLink(res.headers.get('link'));
      expect(link.previous.results).toBe(pages > 0);
      url = link.next.results ? link.next.url : null;
      pages++;
    }
    expect(pages).toBe(30);
    expect(seen).toHaveLength(3000);
    expect(new Set(seen).size).toBe(3000);
    expect(new Set(seen)).toEqual(new Set(emu.data.issues.map((i) => i.id)));
  });

  it('pages backwards with the previous cursor', async () => {
    const first = await api(emu, '/api/0/organizations/acme/issues/?query=&limit=50');
    const firstIds = ((await first.json()) as { id: string }[]).map((i) => i.id);
    const second = await fetch(parseLink(first.headers.get('link')).next.url, {
      headers: { Authorization: `Bearer ${emu.internalToken}` },
    });
    const back = await fetch(parseLink(second.headers.get('link')).previous.url, {
      headers: { Authorization: `Bearer ${emu.internalToken}` },
    });
    expect(((await back.json()) as { id: string }[]).map((i) => i.id)).toEqual(firstIds);
  });

  it('sorts by lastSeen (date) or firstSeen (new), newest first', async () => {
    for (const [sort, field] of [
      ['date', 'lastSeen'],
      ['new', 'firstSeen'],
    ] as const) {
      const page = (await (await api(emu, `/api/0/organizations/acme/issues/?query=&sort=${sort}`)).json()) as Record<
        string,
        string
      >[];
      const times = page.map((i) => Date.parse(i[field]));
      expect(times).toEqual([...times].sort((x, y) => y - x));
    }
  });

  it('filters by status, lastSeen, time window and project', async () => {
    const all = emu.data.issues;
    const count = async (query: string) => {
      let total = 0;
      let url: string | null = `${emu.url}/api/0/organizations/acme/issues/?${query}`;
      while (url) {
        const res: Response = await fetch(url, { headers: { Authorization: `Bearer ${emu.internalToken}` } });
        total += ((await res.json()) as unknown[]).length;
        const next = parseLink(res.headers.get('link')).next;
        url = next.results ? next.url : null;
      }
      return total;
    };
    // No query parameter at all means Sentry's default, is:unresolved.
    expect(await count('')).toBe(all.filter((i) => i.status === 'unresolved').length);
    expect(await count('query=is:resolved')).toBe(all.filter((i) => i.status === 'resolved').length);
    const cutoff = all[1500].lastSeen;
    expect(await count(`query=${encodeURIComponent(`lastSeen:>${cutoff}`)}`)).toBe(
      all.filter((i) => i.lastSeen > cutoff).length,
    );
    const start = new Date(Date.now() - 7 * 86_400_000).toISOString();
    expect(await count(`query=&statsPeriod=7d`)).toBe(all.filter((i) => i.lastSeen >= start).length);
    const project = emu.data.projects[1];
    expect(await count(`query=&project=${project.id}`)).toBe(all.filter((i) => i.projectId === project.id).length);
  });

  it('rejects per_page above 100 and clamps the issues limit to 100', async () => {
    const tooMany = await api(emu, '/api/0/organizations/acme/releases/?per_page=101');
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toEqual({ detail: 'Invalid per_page value. Cannot exceed 100.' });
    const clamped = await api(emu, '/api/0/organizations/acme/issues/?query=&limit=500');
    expect(((await clamped.json()) as unknown[]).length).toBe(100);
    const releases = await api(emu, '/api/0/organizations/acme/releases/');
    expect(((await releases.json()) as unknown[]).length).toBe(Math.min(100, emu.data.releases.length));
  });

  it('rejects malformed cursors', async () => {
    const res = await api(emu, '/api/0/organizations/acme/issues/?query=&cursor=abc');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ detail: 'Invalid cursor parameter.' });
  });
});
