/**
 * One measured figure: its value and unit, and where the project has a target for it, the target and
 * whether this run met it. A null value is a figure the code under test does not report (yet): not judged.
 */
export interface Figure {
  value: number | null;
  unit: string;
  target?: { atLeast: number } | { atMost: number };
  met?: boolean;
}

/** `value` exactly as measured: a target is judged on it, and only a ratio's stored value is rounded (to 0.001). */
export function figure(value: number | null, unit: string, target?: { atLeast: number } | { atMost: number }): Figure {
  const shown = unit === 'ratio' && value !== null ? Math.round(value * 1000) / 1000 : value;
  if (!target) return { value: shown, unit };
  if (value === null) return { value, unit, target };
  const met = 'atLeast' in target ? value >= target.atLeast : value <= target.atMost;
  return { value: shown, unit, target, met };
}

/** The target in words, for the printed table: "≥ 75%", "≤ 20 ms". */
export function describeTarget(f: Figure): string {
  if (!f.target) return '';
  const [sign, bound] = 'atLeast' in f.target ? ['≥', f.target.atLeast] : ['≤', f.target.atMost];
  return f.unit === 'ratio' ? `${sign} ${Math.round(bound * 100)}%` : `${sign} ${bound} ${f.unit}`;
}

export function describeValue(f: Figure): string {
  if (f.value === null) return 'not reported';
  return f.unit === 'ratio' ? `${Math.round(f.value * 1000) / 10}%` : `${f.value.toLocaleString('en-US')} ${f.unit}`;
}
