import { afterEach, describe, expect, it } from 'vitest';
import { SentryApiClient, SentryApiError, type SentryApiClientOptions } from '../../src/sentry/api/index.js';
import { StaticTokenProvider, type TokenProvider } from '../../src/sentry/auth/index.js';
import { bearerOf, delay, sendJson, startServer, type Handler, type TestServer } from './http-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sleeps are recorded, not waited for; the clock only moves when we sleep. */
function fakeTime(startMs = 1_700_000_000_000) {
  const sleeps: number[] = [];
  const clock = { nowMs: startMs };
  return {
    sleeps,
    clock,
    now: () => clock.nowMs,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.nowMs += ms;
    },
  };
}

async function clientFor(handler: Handler, options: Partial<SentryApiClientOptions> = {}) {
  server = await startServer(handler);
  const time = fakeTime();
  const client = new SentryApiClient({
    baseUrl: server.url,
    tokens: new StaticTokenProvider('tok-static'),
    random: () => 0.5,
    now: time.now,
    sleep: time.sleep,
    ...options,
  });
  return { client, time, server };
}

function linkFor(base: string, nextCursor: string | null): string {
  const next = nextCursor ?? '0:999:0';
  return (
    `<${base}?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ` +
    `<${base}?cursor=${next}>; rel="next"; results="${nextCursor !== null}"; cursor="${next}"`
  );
}

/** Three pages of issues, keyed by cursor. */
const PAGES: Record<string, { items: { id: string }[]; next: string | null }> = {
  '': { items: [{ id: '1' }, { id: '2' }], next: '0:2:0' },
  '0:2:0': { items: [{ id: '3' }, { id: '4' }], next: '0:4:0' },
  '0:4:0': { items: [{ id: '5' }], next: null },
};

function pageHandler(faults: (cursor: string, attempt: number) => 'ok' | '429' | '503' | 'drop'): Handler {
  const attempts = new Map<string, number>();
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    const cursor = url.searchParams.get('cursor') ?? '';
    const attempt = (attempts.get(cursor) ?? 0) + 1;
    attempts.set(cursor, attempt);
    const fault = faults(cursor, attempt);
    if (fault === 'drop') return void res.socket?.destroy();
    if (fault === '429') return sendJson(res, 429, { detail: 'slow down' }, { 'Retry-After': '2' });
    if (fault === '503') return sendJson(res, 503, { detail: 'unavailable' });
    const page = PAGES[cursor];
    if (!page) return sendJson(res, 404, { detail: 'no such cursor' });
    sendJson(res, 200, page.items, { Link: linkFor(`http://x${url.pathname}`, page.next) });
  };
}

async function collect<T>(pages: AsyncIterable<{ items: T[]; nextCursor: string | null }>) {
  const seen: { items: T[]; nextCursor: string | null }[] = [];
  for await (const page of pages) seen.push(page);
  return seen;
}

describe('SentryApiClient.get', () => {
  it('sends the bearer token and query, and returns data, headers and next cursor', async () => {
    const { client, server } = await clientFor((req, res) =>
      sendJson(res, 200, { ok: true }, { Link: linkFor('http://x/y/', '0:100:0'), 'X-Custom': 'v' }),
    );
    const response = await client.get<{ ok: boolean }>('/api/0/things/', {
      query: '',
      project: [1, 2],
      statsPeriod: '14d',
      skipped: undefined,
    });
    expect(response.data).toEqual({ ok: true });
    expect(response.next).toBe('0:100:0');
    expect(response.headers.get('x-custom')).toBe('v');
    expect(bearerOf(server.requests[0]!)).toBe('tok-static');
    expect(server.requests[0]!.url).toBe('/api/0/things/?query=&project=1&project=2&statsPeriod=14d');
    expect(client.stats).toEqual({ requests: 1, retries: 0, rateLimited: 0, rateLimitWaitMs: 0 });
  });

  it('throws typed errors carrying Sentry detail and a redacted URL', async () => {
    const { client } = await clientFor((req, res) =>
      req.url.startsWith('/forbidden')
        ? sendJson(res, 403, { detail: 'You do not have permission' })
        : sendJson(res, 404, { detail: 'The requested resource does not exist' }),
    );
    const notFound = await client
      .get('/missing/', { token: 'leak-me', query: 'is:unresolved' })
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(SentryApiError);
    expect(notFound).toMatchObject({ kind: 'not_found', status: 404, detail: 'The requested resource does not exist' });
    expect((notFound as SentryApiError).url).toContain('query=is%3Aunresolved');
    expect((notFound as SentryApiError).message).not.toContain('leak-me');
    await expect(client.get('/forbidden/')).rejects.toMatchObject({ kind: 'forbidden', status: 403 });
    expect(client.stats.retries).toBe(0);
  });
});

describe('SentryApiClient.paginate', () => {
  it('follows cursors over several pages and stops at results="false"', async () => {
    const { client, server } = await clientFor(pageHandler(() => 'ok'));
    const pages = await collect(client.paginate<{ id: string }>('/api/0/organizations/acme/issues/', { query: '' }));
    expect(pages.map((p) => p.items.map((i) => i.id))).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(pages.map((p) => p.nextCursor)).toEqual(['0:2:0', '0:4:0', null]);
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((r) => r.url.includes('query='))).toBe(true);
  });

  it('resumes from a checkpointed cursor', async () => {
    const { client } = await clientFor(pageHandler(() => 'ok'));
    const pages = await collect(client.paginate<{ id: string }>('/api/0/x/', {}, '0:2:0'));
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(['3', '4', '5']);
  });

  it('absorbs a 429 with Retry-After without losing a page', async () => {
    const { client, time } = await clientFor(
      pageHandler((cursor, attempt) => (cursor === '0:2:0' && attempt === 1 ? '429' : 'ok')),
    );
    const pages = await collect(client.paginate<{ id: string }>('/api/0/x/'));
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(['1', '2', '3', '4', '5']);
    // A 429 is not an error: it is waited out, not counted as a retry.
    expect(client.stats).toMatchObject({ requests: 4, retries: 0, rateLimited: 1 });
    // Waited out Retry-After (2 s) plus jitter, and reported it.
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2000);
    expect(client.stats.rateLimitWaitMs).toBe(time.sleeps.reduce((a, b) => a + b, 0));
  });

  it('keeps going through more consecutive 429s than the error retry cap allows', async () => {
    const { client, time } = await clientFor(
      pageHandler((cursor, attempt) => (cursor === '0:2:0' && attempt <= 9 ? '429' : 'ok')),
      { maxRetries: 2 },
    );
    const pages = await collect(client.paginate<{ id: string }>('/api/0/x/'));
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(['1', '2', '3', '4', '5']);
    expect(client.stats).toMatchObject({ requests: 12, retries: 0, rateLimited: 9 });
    // Nine Retry-After: 2 pauses, each with jitter on top, never below.
    expect(time.sleeps.every((ms) => ms >= 2000)).toBe(true);
    expect(client.stats.rateLimitWaitMs).toBeGreaterThanOrEqual(9 * 2000);
  });

  it('without Retry-After, waits until X-Sentry-Rate-Limit-Reset', async () => {
    const time = fakeTime();
    let calls = 0;
    const { client } = await clientFor(
      (req, res) =>
        ++calls === 1
          ? sendJson(
              res,
              429,
              { detail: 'slow down' },
              {
                'X-Sentry-Rate-Limit-Remaining': '0',
                'X-Sentry-Rate-Limit-Reset': String(Math.floor(time.clock.nowMs / 1000) + 7),
              },
            )
          : sendJson(res, 200, { ok: true }),
      { now: time.now, sleep: time.sleep },
    );
    await expect(client.get('/api/0/a/')).resolves.toMatchObject({ data: { ok: true } });
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6000);
    expect(time.sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(10_000);
  });

  it('fails with a clear error when 429s never stop', async () => {
    const { client, server } = await clientFor(
      pageHandler(() => '429'),
      { maxRateLimitWaitMs: 60_000 },
    );
    const error = await client.get('/api/0/x/').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429 });
    expect(String(error)).toMatch(/still rate limited after 1\.\d min of waiting/);
    // Retry-After is 2 s plus up to 1 s of jitter: about 60 s / 2.5 s attempts, far beyond the error cap.
    expect(server.requests.length).toBeGreaterThan(15);
    expect(server.requests.length).toBeLessThan(32);
  });

  it('still caps 5xx retries between 429s', async () => {
    const { client } = await clientFor(
      pageHandler((cursor, attempt) => (attempt % 2 === 1 ? '429' : '503')),
      { maxRetries: 2 },
    );
    await expect(client.get('/api/0/x/')).rejects.toMatchObject({ kind: 'server', status: 503 });
    expect(client.stats).toMatchObject({ retries: 2, rateLimited: 3 });
  });

  it('retries 5xx responses and dropped connections', async () => {
    const { client } = await clientFor(
      pageHandler((cursor, attempt) => {
        if (cursor === '' && attempt === 1) return '503';
        if (cursor === '0:4:0' && attempt <= 2) return 'drop';
        return 'ok';
      }),
    );
    const pages = await collect(client.paginate<{ id: string }>('/api/0/x/'));
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(['1', '2', '3', '4', '5']);
    expect(client.stats.retries).toBe(3);
  });

  it('gives up after maxRetries with the last error kind', async () => {
    const { client } = await clientFor(
      pageHandler(() => '503'),
      { maxRetries: 2 },
    );
    await expect(collect(client.paginate('/api/0/x/'))).rejects.toMatchObject({ kind: 'server', status: 503 });
    expect(client.stats).toMatchObject({ requests: 3, retries: 2 });
  });
});

describe('timeouts', () => {
  it('aborts a hung request and retries it', async () => {
    let calls = 0;
    const { client } = await clientFor(
      (req, res) => {
        calls++;
        if (calls === 1) return; // never answers
        sendJson(res, 200, { ok: true });
      },
      { timeoutMs: 100 },
    );
    await expect(client.get('/api/0/slow/')).resolves.toMatchObject({ data: { ok: true } });
    expect(client.stats.retries).toBe(1);
  });

  it('reports kind "timeout" when every attempt hangs', async () => {
    const { client } = await clientFor(() => {}, { timeoutMs: 50, maxRetries: 1 });
    await expect(client.get('/api/0/slow/')).rejects.toMatchObject({ kind: 'timeout', status: null });
  });
});

describe('rate-limit pacing', () => {
  it('waits until the window resets when Remaining hits 0', async () => {
    const time = fakeTime();
    const { client, server } = await clientFor(
      (req, res) =>
        sendJson(res, 200, [], {
          'X-Sentry-Rate-Limit-Limit': '40',
          'X-Sentry-Rate-Limit-Remaining': '0',
          'X-Sentry-Rate-Limit-Reset': String(Math.floor(time.clock.nowMs / 1000) + 5),
        }),
      { now: time.now, sleep: time.sleep },
    );
    await client.get('/api/0/a/');
    expect(time.sleeps).toEqual([]);
    await client.get('/api/0/b/');
    expect(time.sleeps).toHaveLength(1);
    expect(time.sleeps[0]).toBeGreaterThanOrEqual(4000);
    expect(time.sleeps[0]).toBeLessThanOrEqual(5000);
    expect(server.requests).toHaveLength(2);
    expect(client.stats.rateLimited).toBe(0);
  });

  it('does not wait while requests remain', async () => {
    const time = fakeTime();
    const { client } = await clientFor(
      (req, res) =>
        sendJson(res, 200, [], {
          'X-Sentry-Rate-Limit-Remaining': '10',
          'X-Sentry-Rate-Limit-Reset': String(Math.floor(time.clock.nowMs / 1000) + 5),
        }),
      { now: time.now, sleep: time.sleep },
    );
    await client.get('/api/0/a/');
    await client.get('/api/0/b/');
    expect(time.sleeps).toEqual([]);
  });
});

describe('concurrency', () => {
  function inFlightTracker(extraHeaders: Record<string, string> = {}) {
    const state = { inFlight: 0, max: 0 };
    const handler: Handler = async (req, res) => {
      state.inFlight++;
      state.max = Math.max(state.max, state.inFlight);
      await delay(20);
      state.inFlight--;
      sendJson(res, 200, {}, extraHeaders);
    };
    return { state, handler };
  }

  it('never has more requests in flight than the configured cap', async () => {
    const { state, handler } = inFlightTracker();
    const { client } = await clientFor(handler, { concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.get(`/api/0/item/${i}/`)));
    expect(state.max).toBe(3);
  });

  it('adopts a lower X-Sentry-Rate-Limit-ConcurrentLimit once known', async () => {
    const { state, handler } = inFlightTracker({
      'X-Sentry-Rate-Limit-ConcurrentLimit': '2',
      'X-Sentry-Rate-Limit-ConcurrentRemaining': '20',
    });
    const { client } = await clientFor(handler);
    await client.get('/api/0/first/');
    state.max = 0;
    await Promise.all(Array.from({ length: 10 }, (_, i) => client.get(`/api/0/item/${i}/`)));
    expect(state.max).toBe(2);
  });
});

describe('401 handling', () => {
  function rotatingTokens() {
    const calls = { refresh: 0 };
    let current = 'old-token';
    const tokens: TokenProvider = {
      getToken: async () => current,
      refreshAfterUnauthorized: async () => {
        calls.refresh++;
        current = 'new-token';
        return current;
      },
    };
    return { calls, tokens };
  }

  it('refreshes once and retries once', async () => {
    const { calls, tokens } = rotatingTokens();
    const { client, server } = await clientFor(
      (req, res) =>
        bearerOf(req) === 'new-token' ? sendJson(res, 200, { ok: 1 }) : sendJson(res, 401, { detail: 'Invalid token' }),
      { tokens },
    );
    await expect(client.get('/api/0/a/')).resolves.toMatchObject({ data: { ok: 1 } });
    expect(calls.refresh).toBe(1);
    expect(server.requests.map(bearerOf)).toEqual(['old-token', 'new-token']);
  });

  it('fails with kind "unauthorized" on a second 401, without a second refresh', async () => {
    const { calls, tokens } = rotatingTokens();
    const { client, server } = await clientFor((req, res) => sendJson(res, 401, { detail: 'Invalid token' }), {
      tokens,
    });
    const error = await client.get('/api/0/a/').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized', status: 401, detail: 'Invalid token' });
    expect(String(error)).not.toContain('new-token');
    expect(calls.refresh).toBe(1);
    expect(server.requests).toHaveLength(2);
  });

  it('retries when the refresh itself fails for a passing reason, then refreshes again', async () => {
    let current = 'old-token';
    let refreshes = 0;
    const tokens: TokenProvider = {
      getToken: async () => current,
      refreshAfterUnauthorized: async () => {
        if (++refreshes === 1) throw new SentryApiError({ kind: 'server', status: 503, url: 'http://x/token/' });
        current = 'new-token';
        return current;
      },
    };
    const { client, server } = await clientFor(
      (req, res) =>
        bearerOf(req) === 'new-token' ? sendJson(res, 200, { ok: 1 }) : sendJson(res, 401, { detail: 'Invalid token' }),
      { tokens },
    );
    await expect(client.get('/api/0/a/')).resolves.toMatchObject({ data: { ok: 1 } });
    expect(refreshes).toBe(2);
    expect(server.requests.map(bearerOf)).toEqual(['old-token', 'old-token', 'new-token']);
    expect(client.stats.retries).toBe(1);
  });

  it('does not retry when the provider cannot refresh', async () => {
    const { client, server } = await clientFor((req, res) => sendJson(res, 401, { detail: 'Invalid token' }));
    await expect(client.get('/api/0/a/')).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(server.requests).toHaveLength(1);
  });
});
