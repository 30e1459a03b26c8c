import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateTokens, fitToBudget, type Section } from '../../src/agent/budget.js';

const line = fc.string({ minLength: 1, maxLength: 200 }).map((s) => `- ${s.replaceAll('\n', ' ')}`);
const sections = fc
  .array(fc.record({ lines: fc.array(line, { maxLength: 12 }), whole: fc.boolean() }), { maxLength: 8 })
  .map((list) =>
    list.map((s, i): Section => ({
      key: `s${i}`,
      heading: `Section ${i}`,
      priority: i,
      lines: s.lines,
      whole: s.whole,
    })),
  );

describe('fitToBudget', () => {
  it('stays within the budget; a whole section is shown entirely or not at all, and the note counts what was cut', () => {
    fc.assert(
      fc.property(sections, fc.integer({ min: 200, max: 3000 }), (list, maxTokens) => {
        const fitted = fitToBudget(['## head'], list, maxTokens, () => 'Ask for more.');
        expect(fitted.tokens).toBeLessThanOrEqual(maxTokens);
        for (const s of list) {
          expect(fitted.kept[s.key] + (fitted.omitted[s.key] ?? 0)).toBe(s.lines.length);
          if (s.whole) expect([0, s.lines.length]).toContain(fitted.kept[s.key]);
        }
        if (Object.keys(fitted.omitted).length) expect(fitted.markdown).toContain('left out');
      }),
    );
  });

  it('a whole section too big for what is left is dropped, and a smaller one after it still fits', () => {
    const big: Section = { key: 'trend', heading: 'Trend', priority: 1, whole: true, lines: ['- x'.repeat(400)] };
    const small: Section = { key: 'comments', heading: 'Comments', priority: 2, lines: ['- short'] };
    const fitted = fitToBudget(['## head'], [big, small], 300, () => '');
    expect(fitted.kept).toEqual({ trend: 0, comments: 1 });
    expect(fitted.markdown).toMatch(/1 trend left out/);
    expect(estimateTokens(fitted.markdown)).toBeLessThanOrEqual(300);
  });
});
