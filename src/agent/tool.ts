import { z } from 'zod';
import type { MemoryDatabase } from '../memory/database.js';
import { QueryError } from '../memory/context/errors.js';
import { DEFAULT_MAX_TOKENS, fitToBudget, MAX_MAX_TOKENS, MIN_MAX_TOKENS, type Section } from './budget.js';
import { parseTime } from '../time.js';

/** What every tool runs against: one workspace of one store. Agents never choose the workspace. */
export interface ToolContext {
  db: MemoryDatabase;
  workspaceId: string;
  now: () => number;
}

export interface ToolAnswer<S> {
  /** Compact markdown for the model, within the token budget. */
  markdown: string;
  /** The same answer for programs; matches the tool's output schema. */
  structured: S;
}

/**
 * One capability, exposed identically as an MCP tool, an HTTP endpoint and a CLI command: the
 * schemas describe it to clients and validate its input and output; `run` answers synchronously.
 */
export interface AgentTool<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  run(ctx: ToolContext, input: z.infer<z.ZodObject<I>>): Promise<ToolAnswer<z.infer<z.ZodObject<O>>>>;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: AgentTool<I, O>): AgentTool<I, O> {
  return tool;
}

/** The `maxTokens` argument of a tool whose answers default to `defaultTokens`. */
export const maxTokensInputOf = (defaultTokens: number) =>
  z
    .number()
    .int()
    .min(MIN_MAX_TOKENS)
    .max(MAX_MAX_TOKENS)
    .optional()
    .describe(
      `Token budget for the answer (default ${defaultTokens}). Least important parts are cut first; raise it to see more.`,
    );

export const maxTokensInput = maxTokensInputOf(DEFAULT_MAX_TOKENS);

export const timeInput = (what: string) =>
  z.string().optional().describe(`${what}: ISO date/time or a duration before now such as 30m, 24h, 7d, 2w`);

/** Converts a time argument, or says how to write one. */
export function timeArg(name: string, value: string | undefined, now: number): string | undefined {
  if (value === undefined) return undefined;
  const iso = parseTime(value, now);
  if (!iso) throw new QueryError(`${name} must be an ISO date/time or a duration like 30m, 24h, 7d, got "${value}"`);
  return iso;
}

/** What the answer left out and how to get it; null when nothing was cut. */
export const truncationOutput = z
  .object({ omitted: z.record(z.string(), z.number()), hint: z.string() })
  .nullable()
  .describe('What the token budget cut, and how to get it');

export function truncation(omitted: Record<string, number>, hint: string): z.infer<typeof truncationOutput> {
  return Object.keys(omitted).length ? { omitted, hint } : null;
}

/** An answer cut to its budget: its markdown, what of each section's items made it in, and the note for programs. */
export interface BudgetedAnswer {
  markdown: string;
  /** The items of section `key` that made it into the markdown. */
  keep<T>(key: string, items: readonly T[]): T[];
  truncated: z.infer<typeof truncationOutput>;
}

/**
 * What every tool does with its answer: cut `head` and `sections` to the caller's budget (default
 * DEFAULT_MAX_TOKENS), saying how to get what was cut: `hint`, given the budget; `structuredHint`
 * where the structured note words it differently.
 */
export function fitAnswer(
  head: string[],
  sections: Section[],
  maxTokens: number | undefined,
  hint: string | ((maxTokens: number) => string),
  structuredHint?: string,
): BudgetedAnswer {
  const budget = maxTokens ?? DEFAULT_MAX_TOKENS;
  const howToGetMore = typeof hint === 'string' ? hint : hint(budget);
  const fitted = fitToBudget(head, sections, budget, () => howToGetMore);
  return {
    markdown: fitted.markdown,
    keep: (key, items) => items.slice(0, fitted.kept[key]),
    truncated: truncation(fitted.omitted, structuredHint ?? howToGetMore),
  };
}

/** The hint of an answer whose sections were cut: a bigger budget shows them. */
export const askForMoreTokens = (maxTokens: number) =>
  `Ask again with a larger maxTokens (e.g. ${maxTokens * 2}) to see them.`;

/** "1,234" — agents read counts, not digits. */
export function count(n: number | null | undefined): string {
  return n == null ? '?' : n.toLocaleString('en-US');
}

/** "2026-11-20 14:03Z" — minute precision is what a timeline needs. */
export function at(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z` : '—';
}

/** Validates raw input (HTTP query, CLI flags) as MCP would; the error names each bad field. */
export function parseToolInput<I extends z.ZodRawShape>(
  tool: AgentTool<I, z.ZodRawShape>,
  raw: Record<string, unknown>,
): z.infer<z.ZodObject<I>> {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const result = z.strictObject(tool.inputSchema).safeParse(defined);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`);
  throw new QueryError(`invalid input for ${tool.name}: ${problems.join('; ')}`);
}
