/** A small path router: `/api/0/organizations/:org/issues/:issueId/` with an optional trailing slash. */
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessToken } from './tokens.js';

export interface RequestContext {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON or form body; empty object when there is none. */
  body: Record<string, unknown>;
  /** The authenticated token for routes that require one. */
  token: AccessToken | null;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  /** `bearer`: needs a valid API token; `public`: the handler authenticates by itself. */
  auth: 'bearer' | 'public';
  handler: Handler;
}

export function route(method: string, path: string, handler: Handler, auth: Route['auth'] = 'bearer'): Route {
  const keys: string[] = [];
  const source = path
    .replace(/\/$/, '')
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      keys.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}/?$`), keys, auth, handler };
}

export type Match = { route: Route; params: Record<string, string> } | { route: null; methodNotAllowed: boolean };

export function matchRoute(routes: readonly Route[], method: string, pathname: string): Match {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => (params[key] = decodeURIComponent(m[i + 1])));
    return { route: r, params };
  }
  return { route: null, methodNotAllowed: pathMatched };
}

export const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers,
});

export const notFound = (detail = 'The requested resource does not exist'): Reply => json({ detail }, 404);
