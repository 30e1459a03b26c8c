/** One measured figure: its value and unit, and where the project has a target for it, the target and whether this run met it. */
export interface Figure {
  value: number;
  unit: string;
  target?: { atLeast: number } | { atMost: number };
  met?: boolean;
}

/** `value` exactly as measured: a target is judged on it, and only a ratio's stored value is rounded (to 0.001). */
export function figure(value: number, unit: string, target?: { atLeast: number } | { atMost: number }): Figure {
  const shown = unit === 'ratio' ? Math.round(value * 1000) / 1000 : value;
  if (!target) return { value: shown, unit };
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
  return f.unit === 'ratio' ? `${Math.round(f.value * 1000) / 10}%` : `${f.value.toLocaleString('en-US')} ${f.unit}`;
}
