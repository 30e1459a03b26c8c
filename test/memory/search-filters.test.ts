import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchMemory, type SearchFilters } from '../../src/memory/context/search.js';
import type { MemoryRecord } from '../../src/memory/records.js';
import type { MemoryStore } from '../../src/memory/store.js';
import { openTestStore } from '../helpers/database.js';
import { emulatorRecords, EPOCH, seededOrganization } from '../helpers/emulator-memory.js';

/**
 * Search filters (project, level, status) narrow inside the full-text index on SQLite (filter tokens
 * kept by triggers): a filtered search must find exactly what an unfiltered one finds that passes the
 * filter, and must follow an issue whose status or level changes after its documents were indexed.
 */
const { data, store: emu } = seededOrganization({ seed: 11 });
const records = emulatorRecords(emu);
const now = EPOCH;
const slug = (projectId: string) => data.projects.find((p) => p.id === projectId)!.slug;
const issueOf = (id: string) => data.issues.find((i) => i.id === id)!;

let store: MemoryStore;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ store, close } = await openTestStore());
  await store.apply('default', 'sentry', records);
});
afterAll(() => close());

/** Every document of every default kind that holds `text`: the ranked strategy sees all matches below its limit. */
async function ids(ws: string, text: string, filters: SearchFilters = {}): Promise<string[]> {
  const result = await searchMemory(store.db, ws, { text, ...filters, limit: 5_000, now });
  expect(result.strategy).toBe('ranked');
  return result.hits.map((h) => `${h.kind}:${h.id}:${h.issueId}`).sort();
}

/** A later observation of an issue's status and level, as a webhook or sync maps it. */
const changed = (id: string, status: string, level: string, at: string): MemoryRecord => ({
  kind: 'issue',
  id,
  observedAt: at,
  level,
  status: { value: { status, substatus: null }, at },
});

describe('search filters', () => {
  it('find exactly the unfiltered matches that pass them, for every kind of document', async () => {
    // A word of issue culprits and of comments ("Looks related to the cart refactor").
    const all = await ids('default', 'cart');
    expect(all.some((id) => id.startsWith('comment:')) && all.some((id) => id.startsWith('issue:'))).toBe(true);
    const issueFor = (id: string) => issueOf(id.split(':').at(-1)!);
    const project = slug(data.issues[0].projectId);
    const cases: [SearchFilters, (id: string) => boolean][] = [
      [{ project: project.toUpperCase() }, (id) => slug(issueFor(id).projectId) === project],
      [{ status: 'resolved' }, (id) => issueFor(id).status === 'resolved'],
      [{ status: 'ignored' }, (id) => issueFor(id).status === 'ignored'],
      [{ level: 'warning' }, (id) => issueFor(id).level === 'warning'],
      [{ level: 'error', project }, (id) => issueFor(id).level === 'error' && slug(issueFor(id).projectId) === project],
    ];
    for (const [filters, holds] of cases) {
      const expected = all.filter(holds);
      expect(expected.length, JSON.stringify(filters)).toBeGreaterThan(0);
      expect(await ids('default', 'cart', filters), JSON.stringify(filters)).toEqual(expected);
    }
  });

  it("follow an issue's status and level to its comments", async () => {
    const issue = data.issues.find((i) => i.status === 'unresolved' && i.activity.some((a) => a.type === 'note'))!;
    const note = issue.activity.find((a) => a.type === 'note')!;
    const text = String(note.data.text);
    const docs = [`comment:${note.id}:${issue.id}`];
    expect((await ids('default', text, { status: 'unresolved' })).filter((id) => docs.includes(id))).toEqual(docs);

    const later = new Date(EPOCH + 60_000).toISOString();
    await store.apply('default', 'sentry', [changed(issue.id, 'ignored', 'fatal', later)]);
    expect(await ids('default', text, { status: 'unresolved' })).not.toContain(docs[0]);
    expect(await ids('default', text, { status: 'ignored', level: 'fatal' })).toContain(docs[0]);
    expect(await ids('default', issue.shortId, { status: 'ignored', level: 'fatal' })).toContain(
      `issue:${issue.id}:${issue.id}`,
    );
    expect(await ids('default', issue.shortId, { status: 'unresolved' })).not.toContain(
      `issue:${issue.id}:${issue.id}`,
    );
  });

  it('give a comment that arrived before its issue the filters of that issue once it arrives', async () => {
    const issue = data.issues.find((i) => i.activity.some((a) => a.type === 'note'))!;
    const mine = records.filter(
      (r) => (r.kind === 'comment' && r.issueId === issue.id) || (r.kind === 'issue' && r.id === issue.id),
    );
    await store.apply(
      'early',
      'sentry',
      mine.filter((r) => r.kind === 'comment'),
    );
    await store.apply(
      'early',
      'sentry',
      mine.filter((r) => r.kind === 'issue'),
    );
    const note = issue.activity.find((a) => a.type === 'note')!;
    expect(
      await ids('early', String(note.data.text), {
        project: slug(issue.projectId),
        status: issue.status,
        level: issue.level,
      }),
    ).toContain(`comment:${note.id}:${issue.id}`);
  });
});
