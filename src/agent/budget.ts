/**
 * Token budgets for answers. Every answer is markdown made of a head (the facts an agent always
 * needs: title, type, project, counts, times, status) and sections of lines in priority order.
 * When the whole would exceed the budget, lines are dropped from the least important section up,
 * and the answer says what was left out and how to get it.
 */
export const DEFAULT_MAX_TOKENS = 2000;
export const MIN_MAX_TOKENS = 200;
export const MAX_MAX_TOKENS = 20_000;

/**
 * ~4 characters per token, the usual rule of thumb for English and code with BPE tokenizers. The
 * point is consistency: the same text always costs the same, so budgets behave predictably.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface Section {
  key: string;
  heading: string;
  lines: string[];
  /** Lower is more important; sections are shown in the order given, but cut by priority. */
  priority: number;
  /**
   * A reading that means nothing in part (a trend, a verdict per deploy): shown whole or left out,
   * and leaving it out does not stop smaller sections of lower priority from being shown.
   */
  whole?: boolean;
}

export interface Fitted {
  markdown: string;
  /** How many lines of each section made it in. */
  kept: Record<string, number>;
  /** How many lines of each section were cut. */
  omitted: Record<string, number>;
  tokens: number;
}

/** Room kept for the closing note that says what was cut. */
const NOTE_RESERVE = 60;

export function fitToBudget(
  head: string[],
  sections: Section[],
  maxTokens: number,
  howToGetMore: (omitted: Record<string, number>) => string,
): Fitted {
  let used = estimateTokens(head.join('\n')) + NOTE_RESERVE;
  const kept: Record<string, number> = Object.fromEntries(sections.map((s) => [s.key, 0]));
  let full = false;
  for (const section of [...sections].sort((a, b) => a.priority - b.priority)) {
    if (section.whole) {
      const cost = estimateTokens(`\n### ${section.heading}\n${section.lines.join('\n')}\n`);
      if (!full && section.lines.length && used + cost <= maxTokens) {
        used += cost;
        kept[section.key] = section.lines.length;
      }
      continue;
    }
    for (const line of section.lines) {
      const cost = estimateTokens(`${kept[section.key] === 0 ? `\n### ${section.heading}\n` : ''}${line}\n`);
      if (full || used + cost > maxTokens) {
        full = true;
        break;
      }
      used += cost;
      kept[section.key] += 1;
    }
  }
  const omitted = Object.fromEntries(
    sections.filter((s) => s.lines.length > kept[s.key]).map((s) => [s.key, s.lines.length - kept[s.key]]),
  );
  const parts = [head.join('\n')];
  for (const section of sections) {
    if (kept[section.key])
      parts.push(`\n### ${section.heading}\n${section.lines.slice(0, kept[section.key]).join('\n')}`);
  }
  if (Object.keys(omitted).length) {
    const what = Object.entries(omitted)
      .map(([key, n]) => `${n} ${key}`)
      .join(', ');
    parts.push(`\n_Cut to fit ${maxTokens} tokens: ${what} left out. ${howToGetMore(omitted)}_`);
  }
  const markdown = parts.join('\n');
  return { markdown, kept, omitted, tokens: estimateTokens(markdown) };
}
