import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { agentError } from '../agent/errors.js';
import { QueryError } from '../memory/context/errors.js';
import { getOverview } from '../memory/context/overview.js';
import type { MemoryDatabase } from '../memory/database.js';
import { eventChart } from '../memory/dashboard/event-chart.js';
import { issueTrendChart } from '../memory/dashboard/issue-trend.js';
import { connectionSyncs } from '../memory/dashboard/sync-streams.js';
import { DAY_MS, type Resolution } from '../memory/event-counts.js';
import type { InboxState } from '../queue/delivery.js';
import { Inbox } from '../queue/inbox.js';
import { parseTime, type Clock } from '../time.js';

type Query = Record<string, string | string[] | undefined>;
const MINUTE_MS = 60_000;
const INBOX_STATES: readonly InboxState[] = ['pending', 'processed', 'skipped', 'dead', 'held'];
const INTERVALS: readonly Resolution[] = ['hour', 'day'];
/** The longest window of each interval: hourly counts are kept for 31 days; a year of days is 366 points. */
const MAX_WINDOW_DAYS: Record<Resolution, number> = { hour: 31, day: 366 };

/** The request's query, refusing parameters the endpoint does not take and repeated ones it takes once. */
function queryOf(request: FastifyRequest, allowed: readonly string[], lists: readonly string[] = []): Query {
  const query = request.query as Query;
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name))
      throw new QueryError(`unknown parameter "${name}"; this endpoint takes ${allowed.join(', ')}`);
    if (Array.isArray(value) && !lists.includes(name)) throw new QueryError(`give "${name}" once`);
  }
  return query;
}

function oneOf<T extends string>(
  name: string,
  value: string | string[] | undefined,
  values: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!values.includes(value as T))
    throw new QueryError(`${name} must be one of ${values.join(', ')}, got "${String(value)}"`);
  return value as T;
}

function integer(
  name: string,
  value: string | string[] | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!(n >= min && n <= max))
    throw new QueryError(`${name} must be a whole number from ${min} to ${max}, got "${String(value)}"`);
  return n;
}

function time(name: string, value: string | string[] | undefined, now: number): string | undefined {
  if (value === undefined) return undefined;
  const iso = parseTime(String(value), now);
  if (!iso) throw new QueryError(`${name} must be an ISO date/time or a duration like 24h, 7d, got "${String(value)}"`);
  return iso;
}

/** A chart's window: `until` (default now), `since` (default `until` − `defaultDays`), within the interval's longest. */
function chartWindow(query: Query, now: number, defaultDays: Record<Resolution, number>) {
  const interval = oneOf('interval', query.interval, INTERVALS, 'hour');
  const until = time('until', query.until, now) ?? new Date(now).toISOString();
  const since =
    time('since', query.since, now) ?? new Date(Date.parse(until) - defaultDays[interval] * DAY_MS).toISOString();
  if (since >= until) throw new QueryError(`since (${since}) must be before until (${until})`);
  if (Date.parse(until) - Date.parse(since) > MAX_WINDOW_DAYS[interval] * DAY_MS)
    throw new QueryError(
      `a window of ${interval}s spans at most ${MAX_WINDOW_DAYS[interval]} days${interval === 'hour' ? ': use interval=day for longer' : ''}`,
    );
  return { interval, since, until };
}

/** Errors the memory raises as answers: 400 for a question to change, 404 for what it does not hold. */
async function answer(reply: FastifyReply, run: () => Promise<unknown>) {
  try {
    return reply.send(await run());
  } catch (error) {
    const failure = agentError(error);
    if (!failure) throw error;
    return reply.code(failure.missing ? 404 : 400).send({ error: failure.markdown });
  }
}

/**
 * The dashboard's own `/api/v1` endpoints (see docs/dashboard-api.md): the overview, the inbox and
 * retrying a delivery, and the charts. All read the request's workspace only.
 */
export async function dashboardApiRoutes(
  app: FastifyInstance,
  options: { db: MemoryDatabase; now: Clock },
): Promise<void> {
  const { db } = options;
  const inbox = new Inbox(db);
  const workspace = (request: FastifyRequest) => request.agentWorkspaceId!;

  app.get('/api/v1/overview', async (request, reply) =>
    answer(reply, async () => {
      queryOf(request, []);
      const now = options.now();
      const ws = workspace(request);
      const at = (ago: number) => new Date(now - ago).toISOString();
      const since = new Date(Math.floor((now - DAY_MS) / MINUTE_MS) * MINUTE_MS).toISOString();
      const [activity, connections, buckets, [last5m, last15m]] = await Promise.all([
        inbox.activity(ws),
        connectionSyncs(db, ws, now),
        inbox.perMinute(ws, since),
        inbox.processedSince(ws, [at(5 * MINUTE_MS), at(15 * MINUTE_MS)]),
      ]);
      const overview = await getOverview(db, ws, activity, now);
      const rate = (processed: number, minutes: number) => ({
        processed,
        perMinute: Math.round((processed / minutes) * 100) / 100,
      });
      return {
        now: new Date(now).toISOString(),
        connections,
        freshness: overview.freshness,
        inbox: { counts: activity.counts, lastReceivedAt: activity.lastReceivedAt },
        processing: { last5m: rate(last5m, 5), last15m: rate(last15m, 15) },
        deliveriesPerMinute: { since, until: new Date(now).toISOString(), buckets },
      };
    }),
  );

  app.get('/api/v1/inbox', async (request, reply) =>
    answer(reply, async () => {
      const query = queryOf(request, ['state', 'limit', 'cursor']);
      const state = query.state === undefined ? undefined : oneOf('state', query.state, INBOX_STATES, 'dead');
      const limit = integer('limit', query.limit, 1, 200, 50);
      if (query.cursor !== undefined && !/^\d+$/.test(String(query.cursor)))
        throw new QueryError('cursor must be the nextCursor of a previous page');
      const before = query.cursor === undefined ? undefined : Number(query.cursor);
      const rows = await inbox.list(workspace(request), { state, limit: limit + 1, before });
      const items = rows.slice(0, limit).map((r) => ({
        seq: Number(r.seq),
        resource: r.resource,
        action: r.action,
        state: r.state,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        receivedAt: r.received_at,
        processedAt: r.processed_at,
      }));
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)!.seq) : null };
    }),
  );

  app.post('/api/v1/inbox/:seq/retry', async (request, reply) => {
    const { seq } = request.params as { seq: string };
    if (!/^\d+$/.test(seq))
      return reply.code(400).send({ error: `expected a delivery number (seq) like 42, got "${seq}"` });
    const outcome = await inbox.retry(workspace(request), Number(seq));
    if ('missing' in outcome) return reply.code(404).send({ error: outcome.missing });
    if ('conflict' in outcome) return reply.code(409).send({ error: outcome.conflict });
    return { seq: Number(seq), state: outcome.state };
  });

  app.get('/api/v1/charts/events', async (request, reply) =>
    answer(reply, async () => {
      const query = queryOf(request, ['since', 'until', 'interval', 'project'], ['project']);
      const window = chartWindow(query, options.now(), { hour: 7, day: 7 });
      const projects = [query.project ?? []]
        .flat()
        .flatMap((p) => p.split(','))
        .map((p) => p.trim())
        .filter(Boolean);
      return eventChart(db, workspace(request), { ...window, projects });
    }),
  );

  app.get('/api/v1/issues/:issue/trend', async (request, reply) =>
    answer(reply, async () => {
      const query = queryOf(request, ['since', 'until', 'interval']);
      const now = options.now();
      const window = chartWindow(query, now, { hour: 7, day: 30 });
      return issueTrendChart(db, workspace(request), (request.params as { issue: string }).issue, window, now);
    }),
  );
}
