/**
 * The HTTP front: rate limiting (headers on every response), latency, fault injection,
 * bearer-token auth, body parsing and dispatch to routes. Uses node:http directly so faults
 * can destroy sockets and responses carry exactly the headers Sentry sends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FaultInjector } from './faults.js';
import { BadRequest } from './pagination.js';
import type { RateLimiter } from './rate-limiter.js';
import { matchRoute, type Reply, type Route } from './router.js';
import type { EmulatorState } from './state.js';

export interface ServerDeps {
  state: EmulatorState;
  routes: Route[];
  limiter: RateLimiter;
  faults: FaultInjector;
  latencyMs: number;
}

const MAX_BODY_BYTES = 1_000_000;

function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^bearer\s+(.+)$/i.exec(header);
  return m ? m[1].trim() : null;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest('Request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    throw new BadRequest('JSON parse error');
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  if (typeof reply.body === 'string') {
    res.writeHead(reply.status, { 'Content-Type': 'text/html; charset=utf-8' }).end(reply.body);
    return;
  }
  res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.body));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createEmulatorServer(deps: ServerDeps): Server {
  const { state, limiter } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    state.stats.requests += 1;
    const bearer = bearerOf(req);
    // Sentry limits per caller: the token when there is one, else the client address.
    const verdict = limiter.admit(bearer ? `token:${bearer}` : `ip:${req.socket.remoteAddress}`);
    for (const [name, value] of Object.entries(verdict.headers)) res.setHeader(name, value);
    const rateLimited = (detail: string, retryAfterSeconds: number) => {
      state.stats.rateLimited += 1;
      req.resume();
      send(res, { status: 429, body: { detail }, headers: { 'Retry-After': String(retryAfterSeconds) } });
    };
    if (!verdict.allowed) return rateLimited(verdict.detail, verdict.retryAfterSeconds);
    res.on('close', verdict.release);

    if (state.hold) await state.hold;
    const latencyMs = deps.latencyMs + deps.faults.extraLatencyMs();
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = deps.faults.roll();
    if (fault?.kind === 'drop') {
      state.stats.dropped += 1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'rate-limited')
      return rateLimited('You are attempting to use this endpoint too frequently.', fault.retryAfterSeconds);
    if (fault?.kind === 'server-error') {
      state.stats.serverErrors += 1;
      req.resume();
      const body =
        fault.status === 500
          ? { detail: 'Internal Error', errorId: null }
          : `<html><body><h1>${fault.status} Service Unavailable</h1></body></html>`;
      send(res, { status: fault.status, body });
      return;
    }

    const url = new URL(req.url ?? '/', state.baseUrl);
    const method = req.method ?? 'GET';
    const match = matchRoute(deps.routes, method, url.pathname);
    if (!match.route) {
      req.resume();
      send(
        res,
        match.methodNotAllowed
          ? { status: 405, body: { detail: `Method "${method}" not allowed.` } }
          : { status: 404, body: { detail: 'The requested resource does not exist' } },
      );
      return;
    }

    const body = method === 'GET' || method === 'HEAD' ? (req.resume(), {}) : await readBody(req);
    let token = null;
    if (match.route.auth === 'bearer') {
      if (!bearer) {
        state.stats.unauthorized += 1;
        send(res, { status: 401, body: { detail: 'Authentication credentials were not provided.' } });
        return;
      }
      token = state.tokens.authenticate(bearer);
      if (!token) {
        state.stats.unauthorized += 1;
        send(res, { status: 401, body: { detail: 'Invalid token' } });
        return;
      }
    }
    send(res, await match.route.handler({ method, url, params: match.params, headers: req.headers, body, token }));
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BadRequest) send(res, { status: 400, body: { detail: err.message } });
      else {
        // An emulator bug, not an injected fault: surface it to whoever runs the tests.
        console.error('sentry emulator: unhandled error', err);
        send(res, { status: 500, body: { detail: 'Internal Error', errorId: null } });
      }
    });
  });
}
