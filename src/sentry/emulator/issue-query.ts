/**
 * The subset of Sentry's issue search the emulator understands:
 * `is:unresolved|resolved|ignored|archived|assigned|unassigned`, `level:`, `release:`,
 * `lastSeen:` / `firstSeen:` with `>`, `>=`, `<`, `<=` and an ISO date or a relative `-24h`,
 * `assigned:<user id|email|#team>`, and free text matched against title and culprit.
 * Unknown `key:value` terms are ignored rather than rejected.
 */
import type { IssueRecord } from './model.js';
import { BadRequest } from './pagination.js';

export type IssuePredicate = (issue: IssueRecord) => boolean;

/** What Sentry applies when the `query` parameter is absent (an empty `query=` means "all"). */
export const DEFAULT_ISSUE_QUERY = 'is:unresolved';

const RELATIVE = /^-(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number | null {
  const m = /^(\d+)([smhdw])$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

function parseTime(text: string, now: number): number {
  const rel = RELATIVE.exec(text);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]];
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new BadRequest(`Invalid date: ${text}`);
  return ms;
}

function compareTime(field: 'lastSeen' | 'firstSeen', expr: string, now: number): IssuePredicate {
  const m = /^(>=|<=|>|<)?(.+)$/.exec(expr)!;
  const op = m[1] ?? '>=';
  const bound = parseTime(m[2], now);
  // A relative time means "within the last N", i.e. newer than now - N.
  const effectiveOp = RELATIVE.test(m[2]) && !m[1] ? '>=' : op;
  return (issue) => {
    const t = Date.parse(issue[field]);
    switch (effectiveOp) {
      case '>':
        return t > bound;
      case '>=':
        return t >= bound;
      case '<':
        return t < bound;
      default:
        return t <= bound;
    }
  };
}

/** Splits on spaces, keeping quoted values together: `release:"a b"`. */
function tokenize(query: string): string[] {
  return query.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
}

export interface AssigneeResolver {
  userIdByEmail(email: string): string | undefined;
  teamIdBySlug(slug: string): string | undefined;
}

export function parseIssueQuery(query: string, now: number, resolve: AssigneeResolver): IssuePredicate[] {
  const predicates: IssuePredicate[] = [];
  for (const raw of tokenize(query)) {
    const token = raw.replaceAll('"', '');
    const colon = token.indexOf(':');
    if (colon <= 0) {
      const text = token.toLowerCase();
      predicates.push((i) => i.title.toLowerCase().includes(text) || i.culprit.toLowerCase().includes(text));
      continue;
    }
    const negate = token.startsWith('!');
    const key = token.slice(negate ? 1 : 0, colon);
    const value = token.slice(colon + 1);
    const predicate = termPredicate(key, value, now, resolve);
    if (predicate) predicates.push(negate ? (i) => !predicate(i) : predicate);
  }
  return predicates;
}

function termPredicate(key: string, value: string, now: number, resolve: AssigneeResolver): IssuePredicate | null {
  switch (key) {
    case 'is':
      switch (value) {
        case 'unresolved':
        case 'resolved':
        case 'ignored':
          return (i) => i.status === value;
        case 'archived':
          return (i) => i.status === 'ignored';
        case 'assigned':
          return (i) => i.assignedTo !== null;
        case 'unassigned':
          return (i) => i.assignedTo === null;
        case 'regressed':
        case 'escalating':
        case 'new':
        case 'ongoing':
          return (i) => i.substatus === value;
        default:
          throw new BadRequest(`Invalid value for "is" search: ${value}`);
      }
    case 'level':
      return (i) => i.level === value;
    case 'release':
      return (i) => i.lastRelease === value || i.firstRelease === value;
    case 'firstRelease':
      return (i) => i.firstRelease === value;
    case 'lastSeen':
    case 'firstSeen':
      return compareTime(key, value, now);
    case 'assigned': {
      const target = value.startsWith('#')
        ? { type: 'team', id: resolve.teamIdBySlug(value.slice(1)) }
        : { type: 'user', id: value.includes('@') ? resolve.userIdByEmail(value) : value };
      return (i) => i.assignedTo?.type === target.type && i.assignedTo.id === target.id;
    }
    default:
      return null;
  }
}

export type IssueSort = 'date' | 'new' | 'freq' | 'user';

export const SORT_KEYS: Record<IssueSort, (i: IssueRecord) => number> = {
  date: (i) => Date.parse(i.lastSeen),
  new: (i) => Date.parse(i.firstSeen),
  freq: (i) => i.count,
  user: (i) => i.userCount,
};

export function parseSort(raw: string | null): IssueSort {
  const sort = raw || 'date';
  if (!(sort in SORT_KEYS)) throw new BadRequest(`Invalid sort: ${sort}`);
  return sort as IssueSort;
}
