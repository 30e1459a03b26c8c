import { createHmac, randomUUID } from 'node:crypto';

/** A compact JWS with HS256 (HMAC-SHA256), the only algorithm Sentry's client-secret JWT accepts. */
export function signJwtHs256(claims: Readonly<Record<string, unknown>>, secret: string): string {
  const header = base64UrlJson({ alg: 'HS256', typ: 'JWT' });
  const payload = base64UrlJson(claims);
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/**
 * The assertion for Sentry's client-secret JWT grant: issuer and subject are
 * the client id, it lives one minute, and `jti` makes every assertion unique.
 */
export function createClientSecretJwt(args: {
  clientId: string;
  clientSecret: string;
  nowMs: number;
  ttlSeconds?: number;
}): string {
  const iat = Math.floor(args.nowMs / 1000);
  return signJwtHs256(
    { iss: args.clientId, sub: args.clientId, iat, exp: iat + (args.ttlSeconds ?? 60), jti: randomUUID() },
    args.clientSecret,
  );
}

function base64UrlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
