import type { Versioned } from './records.js';

const rankDigits = { initial: '0', change: '1', final: '2' } as const;
/** Wide enough for any safe integer, so that arrivals compare as text. */
const ARRIVAL_DIGITS = 16;

/**
 * A version orders two observations of the same value, compared as text: the later `at` wins, then
 * the higher rank, then the later arrival, and finally the value itself, so that any delivery order
 * of the same facts converges to the same state.
 */
export function versionOf(fact: Versioned<unknown>): string {
  const arrival = String(fact.arrival ?? 0).padStart(ARRIVAL_DIGITS, '0');
  return `${fact.at}|${rankDigits[fact.rank ?? 'change']}|${arrival}|${JSON.stringify(fact.value) ?? ''}`;
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
