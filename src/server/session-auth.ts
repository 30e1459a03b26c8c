import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { MemoryDatabase } from '../memory/database.js';
import { findSession, type Session } from '../memory/sessions.js';

/** The dashboard's session cookie: its value is the session token. */
export const SESSION_COOKIE = 'sm_session';
/** The header a cookie-authenticated change carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The live session a cookie names, with its token (sign-out needs it), or null. */
export async function sessionOf(
  db: MemoryDatabase,
  token: string,
  now: number,
): Promise<(Session & { token: string }) | null> {
  const session = await findSession(db, token, now);
  return session ? { ...session, token } : null;
}

/**
 * Why a request must not act with the cookie's authority: it says it came from another site. The
 * browser says so in `Sec-Fetch-Site`, or in an `Origin` that is not this server's own (the host
 * check only knows the hostname is allowed, not that it is this page's).
 */
export function crossSiteRefusal(request: FastifyRequest): string | null {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `cross-site request refused (Sec-Fetch-Site: ${String(site)})`;
  const origin = request.headers.origin;
  if (origin === undefined) return null;
  // Host and port only: behind a TLS-terminating proxy the page's scheme is not the one this server sees.
  const own = (request.headers.host ?? '').toLowerCase();
  const from = URL.canParse(origin) ? new URL(origin).host.toLowerCase() : '';
  return from === own ? null : `cross-site request refused (Origin "${origin}" is not this server's)`;
}

/**
 * Why a request with the session cookie may not do what it asks: a change (any method but GET, HEAD,
 * OPTIONS) must come from this origin and carry the session's CSRF token.
 */
export function csrfRefusal(request: FastifyRequest, expected: string): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const crossSite = crossSiteRefusal(request);
  if (crossSite) return crossSite;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !sent)
    return `missing ${CSRF_HEADER} header: send the csrfToken the session answer gave`;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b) ? null : `${CSRF_HEADER} does not match this session`;
}
