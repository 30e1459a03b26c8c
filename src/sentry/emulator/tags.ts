import type { EventRecord, IssueRecord, ProjectRecord } from './model.js';
import { newEvent } from './events.js';
import { Prng } from './prng.js';

/** Values in `topValues`, as Sentry sends (TOP_VALUES_DEFAULT_LIMIT): keys with more need the values endpoint. */
export const TOP_VALUES = 9;

const KEY_NAMES: Record<string, string> = { os: 'OS', url: 'URL', server_name: 'Server' };

export function tagKeyName(key: string): string {
  return KEY_NAMES[key] ?? key.replace(/(^|[._])(\w)/g, (_m, sep: string, c: string) => `${sep}${c.toUpperCase()}`);
}

export interface TagValueCount {
  value: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

/** The issue's tag keys and their values, counted from the events the emulator holds; most frequent first. */
export function issueTagCounts(issue: IssueRecord): { key: string; total: number; values: TagValueCount[] }[] {
  const byKey = new Map<string, Map<string, TagValueCount>>();
  for (const event of issue.events)
    for (const { key, value } of event.tags) {
      const values = byKey.get(key) ?? byKey.set(key, new Map()).get(key)!;
      const seen = values.get(value);
      if (!seen) values.set(value, { value, count: 1, firstSeen: event.dateCreated, lastSeen: event.dateCreated });
      else {
        seen.count += 1;
        if (event.dateCreated < seen.firstSeen) seen.firstSeen = event.dateCreated;
        if (event.dateCreated > seen.lastSeen) seen.lastSeen = event.dateCreated;
      }
    }
  return [...byKey]
    .map(([key, values]) => ({
      key,
      total: [...values.values()].reduce((sum, v) => sum + v.count, 0),
      values: [...values.values()].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1)),
    }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * Gives two busy issues more events, from their own random stream (the rest of the seed is unchanged):
 * the busiest browser issue is hit almost only in one browser, which the project overall sees about
 * a quarter of the time, and the busiest other issue has more users than `topValues` shows.
 */
export function shapeTagDistributions(seed: number, issues: IssueRecord[], projects: ProjectRecord[]): void {
  const rng = new Prng(seed).fork('tags');
  const busiest = (list: IssueRecord[]) =>
    list.filter((i) => i.lastSeen > i.firstSeen && i.events.length >= 2).sort((a, b) => b.count - a.count)[0];
  const browserProjects = new Set(projects.filter((p) => p.runtime === 'browser').map((p) => p.id));
  const dominated = busiest(issues.filter((i) => browserProjects.has(i.projectId)));
  if (dominated) {
    addEvents(rng, dominated, projects, 20);
    for (const [n, event] of dominated.events.entries())
      setTag(event, 'browser', n % 10 === 3 ? 'Chrome 126.0' : 'Firefox 127.0');
  }
  const crowded = busiest(issues.filter((i) => i !== dominated));
  if (crowded) addEvents(rng, crowded, projects, 30);
}

/** `n` more events strictly between the issue's first and last, so its first, latest and recommended events stay. */
function addEvents(rng: Prng, issue: IssueRecord, projects: ProjectRecord[], n: number): void {
  const project = projects.find((p) => p.id === issue.projectId)!;
  const first = issue.events[0];
  const [from, to] = [Date.parse(issue.firstSeen), Date.parse(issue.lastSeen)];
  const added = Array.from({ length: n }, (_, k) =>
    newEvent(rng, {
      issue,
      project,
      frames: first.exception.frames,
      at: Math.floor(from + ((to - from) * (k + 1)) / (n + 2)),
      release: first.release,
      environment: first.environment,
    }),
  );
  const last = issue.events[issue.events.length - 1];
  issue.events = [...issue.events.slice(0, -1), ...added, last].sort((a, b) =>
    a === last ? 1 : b === last ? -1 : a.dateCreated.localeCompare(b.dateCreated),
  );
  issue.count = Math.max(issue.count, issue.events.length);
}

function setTag(event: EventRecord, key: string, value: string): void {
  const tag = event.tags.find((t) => t.key === key);
  if (tag) tag.value = value;
}
