import { DEFAULT_ISSUE_QUERY, SORT_KEYS, parseDuration, parseIssueQuery, parseSort } from '../issue-query.js';
import type { IssueRecord } from '../model.js';
import { BadRequest, MAX_PER_PAGE, linkHeader, paginateByKey, parseCursor } from '../pagination.js';
import { json, notFound, route, type Handler, type Reply, type RequestContext, type Route } from '../router.js';
import { serializeActivity, serializeEvent, serializeIssue } from '../serialize.js';
import type { EmulatorState } from '../state.js';
import { forOrg, pagedReply, projectFilter } from './lists.js';
import { issueTagHandlers } from './tag-routes.js';

/** The issue list (search, sort, keyset cursors) and per-issue details, events, activity, notes. */
export function issueRoutes(state: EmulatorState): Route[] {
  const { store } = state;

  const listIssues: Handler = (ctx) => {
    const params = ctx.url.searchParams;
    const now = state.now();
    const sort = parseSort(params.get('sort'));
    const limit = parseLimit(params.get('limit') ?? params.get('per_page'));
    const query = params.has('query') ? params.get('query')! : DEFAULT_ISSUE_QUERY;
    const predicates = parseIssueQuery(query, now, {
      userIdByEmail: (email) => store.data.users.find((u) => u.email === email)?.id,
      teamIdBySlug: (slug) => store.data.teams.find((t) => t.slug === slug)?.id,
    });
    const projects = projectFilter(ctx);
    const environments = params.getAll('environment').filter(Boolean);
    const [start, end] = timeWindow(ctx, now);
    const groupStatsPeriod = parseGroupStatsPeriod(params.get('groupStatsPeriod'));

    const key = SORT_KEYS[sort];
    const rows = store.data.issues
      .filter(
        (issue) =>
          (!projects || projects.has(issue.projectId)) &&
          Date.parse(issue.lastSeen) >= start &&
          Date.parse(issue.firstSeen) <= end &&
          (environments.length === 0 || issue.events.some((e) => environments.includes(e.environment))) &&
          predicates.every((p) => p(issue)),
      )
      .sort((a, b) => key(b) - key(a) || Number(b.id) - Number(a.id));
    const page = paginateByKey(rows, key, limit, parseCursor(params.get('cursor')));
    return json(
      page.items.map((issue) => serializeIssue(issue, store, { baseUrl: state.baseUrl, now, groupStatsPeriod })),
      200,
      { Link: linkHeader(ctx.url, page), 'X-Hits': String(rows.length), 'X-Max-Hits': String(rows.length) },
    );
  };

  const withIssue =
    (fn: (ctx: RequestContext, issue: IssueRecord) => Reply): Handler =>
    (ctx) => {
      const issue = store.findIssue(ctx.params.issueId);
      return issue ? fn(ctx, issue) : notFound();
    };

  const perIssue: [string, Handler][] = [
    [
      ':issueId/',
      withIssue((_ctx, issue) =>
        json(serializeIssue(issue, store, { baseUrl: state.baseUrl, now: state.now(), detailed: true })),
      ),
    ],
    [
      ':issueId/events/',
      withIssue((ctx, issue) => pagedReply(ctx, [...issue.events].reverse(), (e) => serializeEvent(e, issue, store))),
    ],
    [
      ':issueId/events/:eventId/',
      withIssue((ctx, issue) => {
        const event = pickEvent(issue, ctx.params.eventId);
        return event ? json(serializeEvent(event, issue, store)) : notFound('Event not found');
      }),
    ],
    [
      ':issueId/activities/',
      withIssue((_ctx, issue) =>
        json({ activity: [...issue.activity].reverse().map((a) => serializeActivity(a, store)) }),
      ),
    ],
    ...issueTagHandlers().map(([path, fn]): [string, Handler] => [path, withIssue(fn)]),
    [':issueId/comments/', notesHandler()],
    [':issueId/notes/', notesHandler()],
  ];

  function notesHandler(): Handler {
    return withIssue((ctx, issue) =>
      pagedReply(ctx, issue.activity.filter((a) => a.type === 'note').reverse(), (a) => serializeActivity(a, store)),
    );
  }

  return [
    route('GET', '/api/0/organizations/:org/issues/', forOrg(state, listIssues)),
    // Issue routes exist both org-scoped (id or short id) and top-level, as in Sentry.
    ...perIssue.map(([path, handler]) =>
      route('GET', `/api/0/organizations/:org/issues/${path}`, forOrg(state, handler)),
    ),
    ...perIssue.map(([path, handler]) => route('GET', `/api/0/issues/${path}`, handler)),
  ];
}

/** The issues endpoint takes `limit`; above 100 it is clamped rather than rejected. */
function parseLimit(raw: string | null): number {
  if (raw === null || raw === '') return MAX_PER_PAGE;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new BadRequest('Invalid limit parameter.');
  return Math.min(MAX_PER_PAGE, Number(raw));
}

/** Sentry's choices; `auto` picks by the window, which the emulator answers hourly. */
function parseGroupStatsPeriod(raw: string | null): '24h' | '14d' | '' {
  if (raw === null || raw === '24h' || raw === 'auto') return '24h';
  if (raw === '' || raw === '14d') return raw;
  throw new BadRequest(`Invalid groupStatsPeriod: ${raw}`);
}

/** `statsPeriod=14d` or `start`/`end` (ISO); without either there is no time restriction. */
function timeWindow(ctx: RequestContext, now: number): [number, number] {
  const params = ctx.url.searchParams;
  const period = params.get('statsPeriod');
  if (period) {
    const ms = parseDuration(period);
    if (ms === null) throw new BadRequest(`Invalid statsPeriod: ${period}`);
    return [now - ms, Number.POSITIVE_INFINITY];
  }
  const start = params.get('start');
  const end = params.get('end');
  if (!start && !end) return [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
  if (!start || !end) throw new BadRequest('start and end are both required');
  const [s, e] = [Date.parse(start), Date.parse(end)];
  if (Number.isNaN(s) || Number.isNaN(e)) throw new BadRequest('start and end must be ISO-8601 dates');
  return [s, e];
}

/** `recommended` = the most recent event that has a release tag (a stand-in for Sentry's heuristic). */
function pickEvent(issue: IssueRecord, which: string) {
  const events = issue.events;
  switch (which) {
    case 'latest':
      return events[events.length - 1];
    case 'oldest':
      return events[0];
    case 'recommended':
      return [...events].reverse().find((e) => e.release !== null) ?? events[events.length - 1];
    default:
      return events.find((e) => e.eventId === which);
  }
}
