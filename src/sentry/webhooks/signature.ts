import { createHmac, timingSafeEqual } from 'node:crypto';

/** Sentry signs the exact request bytes: HMAC-SHA256 with the client secret, lower-case hex. */
export function signBody(secret: string, body: Uint8Array | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * True when `signature` is the HMAC of `body` under any of `secrets` (several are accepted
 * so a secret can be rotated without downtime). Constant-time per candidate.
 */
export function verifySignature(
  body: Uint8Array | string,
  signature: string | undefined,
  secrets: readonly string[],
): boolean {
  if (!signature || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const given = Buffer.from(signature.toLowerCase(), 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    // No early exit: every secret is tried, so timing does not reveal which one matched.
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

export type TimestampCheck = { ok: true; sentAt: Date } | { ok: false; reason: string };

/** Replay window: `Sentry-Hook-Timestamp` is epoch seconds; reject when it is outside ±tolerance. */
export function checkTimestamp(
  header: string | undefined,
  toleranceSeconds: number,
  now: number = Date.now(),
): TimestampCheck {
  if (!header) return { ok: false, reason: 'missing Sentry-Hook-Timestamp' };
  const seconds = Number(header);
  if (!Number.isFinite(seconds)) return { ok: false, reason: 'Sentry-Hook-Timestamp is not a number' };
  const skew = Math.abs(now / 1000 - seconds);
  if (skew > toleranceSeconds)
    return {
      ok: false,
      reason: `Sentry-Hook-Timestamp is ${Math.round(skew)}s from now (tolerance ${toleranceSeconds}s)`,
    };
  return { ok: true, sentAt: new Date(seconds * 1000) };
}
