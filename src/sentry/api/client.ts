import type { TokenProvider } from '../auth/token-provider.js';
import { ConcurrencyGate } from './concurrency.js';
import { SentryApiError, errorKindForStatus, extractErrorDetail, redactUrl } from './errors.js';
import { nextCursorFromLink } from './link.js';
import { RequestPacer, parseRetryAfterMs, readRateLimitHeaders } from './rate-limit.js';
import { systemClock, type Clock } from '../../time.js';

export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;
/** Query parameters; arrays repeat the key (`project=1&project=2`), null/undefined are left out. */
export type Query = Readonly<Record<string, QueryValue>>;

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
  /** Cursor of the next page when Sentry says there is one (`results="true"`). */
  next?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ApiStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Requests sent again after a 5xx, network error or timeout (429s are counted in `rateLimited`). */
  retries: number;
  /** 429 responses received; each was waited out and sent again. */
  rateLimited: number;
  /** Wall-clock time during which requests were held back by rate limiting: 429 pauses and budget pacing. */
  rateLimitWaitMs: number;
}

/** The subset of a pino logger the client uses. */
export interface ApiLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SentryApiClientOptions {
  /** `https://sentry.io`, a region URL (`https://us.sentry.io`) or a self-hosted root. */
  baseUrl: string;
  tokens: TokenProvider;
  timeoutMs?: number;
  /** Retries after the first attempt for 5xx, network errors and timeouts. 429s are not errors and never count. */
  maxRetries?: number;
  /**
   * How long one request may keep getting 429s before it fails. Rate limits are shared with every other
   * client of the token, so 429s are waited out; only a limit that never lifts is an error.
   */
  maxRateLimitWaitMs?: number;
  /** Cap on requests in flight; never above 25. */
  concurrency?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); drives backoff jitter. */
  random?: () => number;
  /** Epoch milliseconds; compared with Sentry's reset times. */
  now?: Clock;
  logger?: ApiLogger;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest single pause for rate-limit windows or Retry-After. */
  maxPauseMs?: number;
}

interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

type AttemptOutcome<T> =
  | { ok: true; response: ApiResponse<T> }
  | { ok: false; error: SentryApiError; retryAfterMs: number | null; resetAtMs: number | null };

const silentLogger: ApiLogger = { debug: () => {}, warn: () => {} };
/** Long enough to outlast any burst of other clients; only a limit that never lifts should reach it. */
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 30 * 60_000;
/** A 429 without Retry-After or reset time still waits at least this long. */
const MIN_RATE_LIMIT_PAUSE_MS = 200;
const MAX_RATE_LIMIT_JITTER_MS = 2000;

export class SentryApiClient {
  readonly baseUrl: string;
  readonly stats: ApiStats = { requests: 0, retries: 0, rateLimited: 0, rateLimitWaitMs: 0 };

  private readonly tokens: TokenProvider;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly logger: ApiLogger;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly gate: ConcurrencyGate;
  private readonly pacer: RequestPacer;

  constructor(options: SentryApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
    this.baseBackoffMs = options.baseBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.gate = new ConcurrencyGate(options.concurrency);
    this.pacer = new RequestPacer({
      now: this.now,
      sleep: this.sleep,
      maxPauseMs: options.maxPauseMs ?? 60_000,
      onWaited: (ms) => (this.stats.rateLimitWaitMs += ms),
    });
  }

  /** GET `path` (e.g. `/api/0/organizations/acme/`) and parse the JSON body. */
  async get<T>(path: string, query: Query = {}): Promise<ApiResponse<T>> {
    const url = buildUrl(this.baseUrl, path, query);
    let retryToken: string | null = null;
    let refreshedAfterUnauthorized = false;
    let retries = 0;
    let rateLimitedSinceMs: number | null = null;
    let rateLimitedInARow = 0;
    for (;;) {
      const token = retryToken ?? (await this.tokens.getToken());
      retryToken = null;
      let outcome: AttemptOutcome<T> = await this.attempt<T>(url, token);
      if (outcome.ok) return outcome.response;

      if (outcome.error.kind === 'unauthorized' && !refreshedAfterUnauthorized) {
        // Exactly one refresh and one retry; a second 401 is final.
        refreshedAfterUnauthorized = true;
        try {
          retryToken = await this.tokens.refreshAfterUnauthorized(token);
          if (retryToken === null) throw outcome.error;
          continue;
        } catch (refreshError) {
          // The token endpoint failing for a passing reason (5xx, dropped, 429) is retried like the request itself.
          if (!(refreshError instanceof SentryApiError && refreshError.retryable)) throw refreshError;
          refreshedAfterUnauthorized = false;
          outcome = { ok: false, error: refreshError, retryAfterMs: null, resetAtMs: null };
        }
      }
      const { error } = outcome;
      if (error.kind === 'rate_limited') {
        rateLimitedSinceMs ??= this.now();
        const limitedForMs = this.now() - rateLimitedSinceMs;
        if (limitedForMs >= this.maxRateLimitWaitMs) throw rateLimitedTooLong(error, limitedForMs);
        rateLimitedInARow++;
        const pauseMs = this.rateLimitPauseMs(outcome.retryAfterMs, outcome.resetAtMs, rateLimitedInARow);
        this.logger.debug({ url: error.url, pauseMs }, 'rate limited by Sentry; pausing');
        // Every request waits: the limit belongs to the token, not to this request. The next attempt's turn waits it out.
        this.pacer.pauseFor(pauseMs);
        continue;
      }
      rateLimitedSinceMs = null;
      rateLimitedInARow = 0;
      if (!error.retryable || retries >= this.maxRetries) throw error;

      retries++;
      this.stats.retries++;
      // A 503 may carry Retry-After too; it applies to every request, like a 429's.
      if (outcome.retryAfterMs !== null) this.pacer.pauseFor(outcome.retryAfterMs);
      const backoffMs = this.backoffMs(retries);
      this.logger.warn(
        { url: error.url, kind: error.kind, status: error.status, retry: retries, backoffMs },
        'retrying Sentry API request',
      );
      await this.sleep(backoffMs);
    }
  }

  /**
   * Follows Sentry's cursor pagination from `startCursor` (or the first page),
   * yielding each page with the cursor that resumes after it, so callers can
   * checkpoint between pages. The next page is requested as soon as a page is
   * handed over, so that it arrives while the caller stores this one.
   */
  async *paginate<T>(
    path: string,
    query: Query = {},
    startCursor?: string | null,
  ): AsyncGenerator<Page<T>, void, undefined> {
    const seen = new Set<string>();
    const request = (cursor: string | null) => {
      const response = this.get<unknown>(path, cursor === null ? query : { ...query, cursor });
      // Awaited below, unless the caller stops first: then its outcome is of no interest.
      response.catch(() => undefined);
      return response;
    };
    let next = request(startCursor ?? null);
    for (;;) {
      const response = await next;
      if (!Array.isArray(response.data)) {
        throw new SentryApiError({
          kind: 'invalid_response',
          status: 200,
          url: buildUrl(this.baseUrl, path, query),
          detail: 'expected a JSON array for a paginated endpoint',
        });
      }
      const nextCursor = response.next ?? null;
      if (nextCursor !== null && !seen.has(nextCursor)) next = request(nextCursor);
      yield { items: response.data as T[], nextCursor };
      if (nextCursor === null) return;
      if (seen.has(nextCursor)) {
        // A server that hands back a cursor twice would otherwise loop forever.
        throw new SentryApiError({
          kind: 'invalid_response',
          status: 200,
          url: buildUrl(this.baseUrl, path, query),
          detail: 'pagination cursor repeated',
        });
      }
      seen.add(nextCursor);
    }
  }

  private async attempt<T>(url: string, token: string): Promise<AttemptOutcome<T>> {
    let raw: RawResponse;
    try {
      // The turn is taken inside the concurrency slot, right before sending, so the budget counts what is really in flight.
      raw = await this.gate.run(async () => {
        await this.pacer.waitForTurn();
        try {
          return await this.send(url, token);
        } finally {
          this.pacer.done();
        }
      });
    } catch (cause) {
      const kind = isTimeout(cause) ? 'timeout' : 'network';
      return { ok: false, error: new SentryApiError({ kind, status: null, url }), retryAfterMs: null, resetAtMs: null };
    }
    this.logger.debug({ url: redactUrl(url), status: raw.status }, 'Sentry API response');

    if (raw.status >= 200 && raw.status < 300) {
      const data = parseJsonBody(raw.body, url, raw.status) as T;
      const next = nextCursorFromLink(raw.headers.get('link'));
      return {
        ok: true,
        response: next === null ? { data, headers: raw.headers } : { data, headers: raw.headers, next },
      };
    }
    if (raw.status === 429) this.stats.rateLimited++;
    const error = new SentryApiError({
      kind: errorKindForStatus(raw.status),
      status: raw.status,
      url,
      detail: extractErrorDetail(raw.body),
    });
    return {
      ok: false,
      error,
      retryAfterMs: parseRetryAfterMs(raw.headers.get('retry-after'), this.now()),
      resetAtMs: readRateLimitHeaders(raw.headers).resetAtMs,
    };
  }

  /** One HTTP exchange, body included, inside a concurrency slot and under the timeout. */
  private async send(url: string, token: string): Promise<RawResponse> {
    this.stats.requests++;
    const response = await this.fetchImpl(url, {
      method: 'GET',
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await response.text();
    const snapshot = readRateLimitHeaders(response.headers);
    this.gate.observe(snapshot);
    this.pacer.observe(snapshot);
    return { status: response.status, headers: response.headers, body };
  }

  /**
   * How long to hold every request after a 429: what Retry-After says, else until the window resets, else
   * a growing backoff. Jitter goes on top, never below, so clients sharing a limit do not all return at
   * the same instant and collide again.
   */
  private rateLimitPauseMs(retryAfterMs: number | null, resetAtMs: number | null, inARow: number): number {
    const untilReset = resetAtMs !== null && resetAtMs > this.now() ? resetAtMs - this.now() : null;
    const fallback = Math.min(
      this.maxBackoffMs,
      Math.max(MIN_RATE_LIMIT_PAUSE_MS, this.baseBackoffMs * 2 ** (inARow - 1)),
    );
    const pauseMs = retryAfterMs ?? untilReset ?? fallback;
    const spreadMs = Math.min(MAX_RATE_LIMIT_JITTER_MS, Math.max(MIN_RATE_LIMIT_PAUSE_MS / 2, pauseMs / 2));
    return pauseMs + Math.floor(this.random() * spreadMs);
  }

  /** Exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))). */
  private backoffMs(retry: number): number {
    const ceiling = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (retry - 1));
    return Math.floor(this.random() * ceiling);
  }
}

export function buildUrl(baseUrl: string, path: string, query: Query = {}): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) url.searchParams.append(key, String(item));
  }
  return url.toString();
}

function parseJsonBody(body: string, url: string, status: number): unknown {
  if (body.trim() === '') return null;
  try {
    return JSON.parse(body);
  } catch {
    // No cause attached: V8's SyntaxError quotes the body, which we never echo.
    throw new SentryApiError({ kind: 'invalid_response', status, url, detail: 'response body is not JSON' });
  }
}

function rateLimitedTooLong(last: SentryApiError, forMs: number): SentryApiError {
  const minutes = (forMs / 60_000).toFixed(1);
  return new SentryApiError({
    kind: 'rate_limited',
    status: last.status,
    url: last.url,
    detail: `still rate limited after ${minutes} min of waiting; another client may be using up this token's limit${last.detail ? ` (${last.detail})` : ''}`,
  });
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}
