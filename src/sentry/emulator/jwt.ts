import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Minimal HS256 JWTs — what a Sentry app signs with its client secret for the JWT-bearer grant. */

const b64url = (input: Buffer | string): string => Buffer.from(input).toString('base64url');

export interface ClientSecretJwtClaims {
  iss: string;
  sub?: string;
  iat: number;
  exp: number;
  jti: string;
  [claim: string]: unknown;
}

export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

export type JwtCheck = { ok: true; claims: ClientSecretJwtClaims } | { ok: false; reason: string };

/** Verifies signature, algorithm and expiry; the caller checks issuer and replay (jti). */
export function verifyHs256(token: string, secret: string, nowMs: number): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'Could not validate JWT' };
  const [header, payload, signature] = parts;
  let parsedHeader: { alg?: string };
  let claims: ClientSecretJwtClaims;
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'Could not validate JWT' };
  }
  if (parsedHeader.alg !== 'HS256') return { ok: false, reason: 'Could not validate JWT' };
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'Could not validate JWT' };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs)
    return { ok: false, reason: 'Could not validate JWT' };
  if (typeof claims.iss !== 'string' || typeof claims.jti !== 'string')
    return { ok: false, reason: 'Could not validate JWT' };
  return { ok: true, claims };
}

/** The JWT a Sentry app sends for the client-secret JWT grant: iss = sub = client id, one-time jti. */
export function signClientSecretJwt(
  clientId: string,
  clientSecret: string,
  opts: { nowMs?: number; ttlSeconds?: number } = {},
): string {
  const iat = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  return signHs256(
    { iss: clientId, sub: clientId, iat, exp: iat + (opts.ttlSeconds ?? 300), jti: randomUUID() },
    clientSecret,
  );
}
