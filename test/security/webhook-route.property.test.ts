import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { bodyOfRow } from '../../src/queue/inbox.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { SECRET, sentryHeaders, startTestService, type TestService } from '../helpers/runtime.js';
import { fixtures, mutatedFixture } from './malformed.js';

const BODY_LIMIT = 256 * 1024;
let service: TestService;
beforeAll(async () => {
  service = await startTestService({ bodyLimitBytes: BODY_LIMIT });
});
afterAll(async () => {
  await service.close();
});

const inboxSize = async () =>
  Object.values(await service.runtime.inbox.countsByState(DEFAULT_WORKSPACE)).reduce((a, b) => a + b, 0);

function post(body: Uint8Array | string, headers: Record<string, string | string[]>) {
  return service.app.inject({ method: 'POST', url: '/webhooks/sentry', payload: Buffer.from(body), headers });
}

/** A refusal: the status, and a JSON body whose `error` says what was wrong. */
function expectRefusal(response: { statusCode: number; body: string }, status: number | number[]): void {
  expect([status].flat()).toContain(response.statusCode);
  const { error, message } = JSON.parse(response.body) as { error?: string; message?: string };
  expect(error ?? message).toMatch(/\w{3}/);
}

const anyBody: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: 'binary', maxLength: 512 }),
  fc.constantFrom(...fixtures.map((f) => f.raw)),
  mutatedFixture.map((m) => m.body),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
);
const resourceHeader = fc.oneof(
  fc.constantFrom(...new Set(fixtures.map((f) => f.resource))),
  fc.string({ minLength: 1, maxLength: 30 }).filter((s) => /^[\x21-\x7e]+$/.test(s)),
);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Ways a request fails to prove it comes from Sentry, now. */
type Forgery =
  | 'missing'
  | 'random-hex'
  | 'garbage'
  | 'wrong-secret'
  | 'other-body'
  | 'duplicated'
  | 'legacy-wrong'
  | 'stale'
  | 'future'
  | 'no-timestamp';
const forgery = fc.constantFrom<Forgery>(
  'missing',
  'random-hex',
  'garbage',
  'wrong-secret',
  'other-body',
  'duplicated',
  'legacy-wrong',
  'stale',
  'future',
  'no-timestamp',
);

function forgedHeaders(
  kind: Forgery,
  body: Uint8Array | string,
  resource: string,
  type: string,
  noise: string,
): Record<string, string | string[]> {
  const good = signBody(SECRET, body);
  const headers: Record<string, string | string[]> = {
    'content-type': type,
    'sentry-hook-resource': resource,
    'sentry-hook-timestamp': String(nowSeconds()),
    'request-id': crypto.randomUUID(),
  };
  switch (kind) {
    case 'missing':
      break;
    case 'random-hex':
      headers['sentry-hook-signature'] = signBody(noise, 'x');
      break;
    case 'garbage':
      headers['sentry-hook-signature'] = noise;
      break;
    case 'wrong-secret':
      headers['sentry-hook-signature'] = signBody(`${SECRET}x`, body);
      break;
    case 'other-body':
      headers['sentry-hook-signature'] = signBody(
        SECRET,
        `${typeof body === 'string' ? body : Buffer.from(body).toString('latin1')} `,
      );
      break;
    case 'duplicated':
      // Node joins repeated headers with ", "; a list with a forged entry is not a signature.
      headers['sentry-hook-signature'] = [good, signBody(noise, body)];
      break;
    case 'legacy-wrong':
      headers['sentry-app-signature'] = signBody(noise || 'n', `${noise}!`);
      break;
    case 'stale':
      headers['sentry-hook-signature'] = good;
      headers['sentry-hook-timestamp'] = String(nowSeconds() - 301 - noise.length * 1000);
      break;
    case 'future':
      headers['sentry-hook-signature'] = good;
      headers['sentry-hook-timestamp'] = String(nowSeconds() + 301 + noise.length * 1000);
      break;
    case 'no-timestamp':
      headers['sentry-hook-signature'] = good;
      delete headers['sentry-hook-timestamp'];
      break;
  }
  return headers;
}

/** The body as an accepted delivery would hold it: a JSON object in strict UTF-8, or null. */
function acceptable(body: Uint8Array | string): boolean {
  try {
    const value: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.from(body)),
    );
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

describe('POST /webhooks/sentry on bad input (property-based)', () => {
  it('unverified requests (no, forged, duplicated or stale signatures) get 401 and store nothing', async () => {
    const before = await inboxSize();
    await fc.assert(
      fc.asyncProperty(
        forgery,
        anyBody,
        resourceHeader,
        contentType,
        fc.string({ maxLength: 80 }),
        async (kind, body, resource, type, noise) => {
          // Mutated bodies can grow past the limit: those are refused whole (413) before the signature is read.
          expectRefusal(
            await post(body, forgedHeaders(kind, body, resource, type, noise)),
            Buffer.byteLength(body) > BODY_LIMIT ? 413 : 401,
          );
        },
      ),
      { numRuns: 2_500 },
    );
    expect(await inboxSize()).toBe(before);
  });

  it('verified but unreadable bodies (not JSON, truncated, not an object, invalid UTF-8) or no resource get 400 and store nothing', async () => {
    const truncated = fc
      .constantFrom(...fixtures)
      .chain((f) => fc.integer({ min: 0, max: f.raw.trimEnd().length - 1 }).map((n) => f.raw.slice(0, n)));
    const nonObject = fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
      .map((v) => JSON.stringify(v));
    // A fixture with a byte that is never valid UTF-8 (or an unpaired surrogate) inside its title.
    const invalidUtf8 = fc
      .tuple(
        fc.constantFrom(...fixtures),
        fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]),
      )
      .map(([f, bytes]) => {
        const raw = Buffer.from(f.raw);
        const at = raw.indexOf('"action": "') + 11;
        return Buffer.concat([raw.subarray(0, at), Buffer.from(bytes), raw.subarray(at)]);
      });
    const unreadable = fc.oneof(
      fc.uint8Array({ maxLength: 1024 }),
      truncated,
      nonObject,
      invalidUtf8,
      fc.constantFrom('', ' ', '\uFEFF{}', '{"a":', 'null', '[]'),
    );
    const before = await inboxSize();
    await fc.assert(
      fc.asyncProperty(
        unreadable,
        resourceHeader,
        contentType,
        fc.boolean(),
        async (body, resource, type, dropResource) => {
          fc.pre(!acceptable(body) || dropResource);
          const headers: Record<string, string> = {
            ...sentryHeaders(resource, Buffer.from(body)),
            'content-type': type,
          };
          if (dropResource) delete headers['sentry-hook-resource'];
          const response = await post(body, headers);
          expectRefusal(response, 400);
          expect(JSON.parse(response.body).error).toMatch(dropResource ? /Sentry-Hook-Resource/ : /UTF-8|JSON/);
        },
      ),
      { numRuns: 1_500 },
    );
    expect(await inboxSize()).toBe(before);
  });

  it('verified deliveries with wrong types, nulls, huge strings and deep nesting are acknowledged, kept byte for byte, and end processed, skipped or dead with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedFixture,
        fc.option(resourceHeader, { freq: 4 }),
        async ({ fixture, body }, otherResource) => {
          const requestId = crypto.randomUUID();
          const resource = otherResource ?? fixture.resource;
          const response = await post(body, sentryHeaders(resource, body, { requestId }));
          // Up to three huge strings can take a body over the limit: refused whole, before anything is read.
          if (Buffer.byteLength(body) > BODY_LIMIT) return expectRefusal(response, 413);
          expect(response.statusCode).toBe(200);
          expect(JSON.parse(response.body)).toEqual({ ok: true, duplicate: false });
          await service.runtime.worker.drain();
          const row = (await service.runtime.store.db.get(
            service.runtime.store.db.qb
              .selectFrom('inbox')
              .selectAll()
              .select(bodyOfRow)
              .where('delivery_id', '=', requestId),
          ))!;
          expect(Buffer.from(row.body).equals(Buffer.from(body))).toBe(true);
          expect(['processed', 'skipped', 'dead']).toContain(row.state);
          if (row.state === 'dead') expect(row.last_error).toMatch(/^invalid /);
          if (row.state === 'skipped') expect(row.last_error).toMatch(/^unknown (resource|action)|was deleted/);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('a body over the limit gets 413 and stores nothing', async () => {
    const before = await inboxSize();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }), fc.boolean(), async (size, signed) => {
        const body = `{"action":"created","data":{"pad":"${'x'.repeat(size)}"}}`;
        const response = await post(
          body,
          signed ? sentryHeaders('issue', body) : { 'content-type': 'application/json' },
        );
        expectRefusal(response, 413);
      }),
      { numRuns: 50 },
    );
    expect(await inboxSize()).toBe(before);
    expect((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
