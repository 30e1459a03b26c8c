import fc from 'fast-check';
import { webhookFixtures, type WebhookFixture } from '../helpers/fixtures.js';

/** Sentry's documented webhook bodies: every mutation starts from a real delivery. */
export const fixtures: WebhookFixture[] = webhookFixtures();

type Path = (string | number)[];

/** Every path to a value inside `value` (objects and arrays), the root excluded. */
export function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

/** Replaces the value at `path` inside `root` (in place), or removes it when `replacement` is `REMOVE`. */
function setValueAt(root: unknown, path: Path, replacement: unknown): void {
  let parent = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (replacement !== REMOVE) parent[last] = replacement;
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
}

export const REMOVE = Symbol('remove');

function hasPath(root: unknown, path: Path): boolean {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return false;
    value = (value as Record<string | number, unknown>)[key];
  }
  return true;
}

/** `depth` levels of arrays or objects around a leaf. */
export function nested(depth: number, asObject: boolean): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value];
  return value;
}

/** Values of every JSON type, and the awkward ones: huge strings and numbers, deep nesting, date-like text, ids out of range. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.constant(REMOVE),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -1, 1e21, -1e21, 1.5, Number.MAX_SAFE_INTEGER + 2, 1e300, -1e300, 8.64e15, 1e17),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'null',
    '2026-13-45T99:99:99Z',
    '+275760-09-13T00:00:00Z',
    '-271821-04-20T00:00:00Z',
    '99999999999999999999',
    'NaN',
    '<script>',
    '\uD800',
  ),
  fc.integer({ min: 10_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.tuple(fc.integer({ min: 50, max: 3_000 }), fc.boolean()).map(([depth, asObject]) => nested(depth, asObject)),
);

/** A fixture with one to three values (at any depth) replaced by wrong ones, as JSON text. */
export const mutatedFixture: fc.Arbitrary<{ fixture: WebhookFixture; body: string }> = fc
  .constantFrom(...fixtures)
  .chain((fixture) => {
    const paths = pathsOf(fixture.json);
    return fc.array(fc.tuple(fc.constantFrom(...paths), wrongValue), { minLength: 1, maxLength: 3 }).map((changes) => {
      const json = structuredClone(fixture.json);
      for (const [path, value] of changes) {
        // An earlier change may have removed or replaced a parent of this path.
        if (hasPath(json, path)) setValueAt(json, path, value);
      }
      return { fixture, body: JSON.stringify(json) };
    });
  });
