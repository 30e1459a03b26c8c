/**
 * A version orders two observations of the same value: the later `at` wins, and equal times are
 * broken by the value itself so that any delivery order converges to the same state.
 */
export function versionOf(at: string, value: unknown): string {
  return `${at}|${JSON.stringify(value) ?? ''}`;
}

export function isNewer(candidate: string, current: string | null | undefined): boolean {
  return current == null || candidate > current;
}

export function maxTime(a: string | null | undefined, b: string | null | undefined): string | null {
  if (a == null) return b ?? null;
  if (b == null) return a;
  return a > b ? a : b;
}

export function minTime(a: string | null | undefined, b: string | null | undefined): string | null {
  if (a == null) return b ?? null;
  if (b == null) return a;
  return a < b ? a : b;
}

export function maxNumber(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null) return b ?? null;
  if (b == null) return a;
  return Math.max(a, b);
}
