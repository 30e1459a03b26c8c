import type { z } from 'zod';
import { parseToolInput, type AgentTool, type ToolAnswer } from '../agent/tool.js';
import type { ConfigFlags } from '../config.js';
import type { MemoryStore } from '../memory/store.js';
import { systemClock } from '../time.js';
import { withStore } from './options.js';

/**
 * Runs one agent tool against the configured store, with the same input validation as MCP and HTTP,
 * so the CLI answers exactly what an agent would get.
 */
export async function runTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  flags: ConfigFlags,
  tool: AgentTool<I, O>,
  input: Record<string, unknown>,
): Promise<ToolAnswer<z.infer<z.ZodObject<O>>>> {
  return withStore(flags, (store, workspaceId) => runToolOn(store, workspaceId, tool, input));
}

/** runTool on a store the command already has open. */
export function runToolOn<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  store: MemoryStore,
  workspaceId: string,
  tool: AgentTool<I, O>,
  input: Record<string, unknown>,
): Promise<ToolAnswer<z.infer<z.ZodObject<O>>>> {
  return tool.run(
    { db: store.db, workspaceId, now: systemClock },
    parseToolInput(tool as unknown as AgentTool<I, z.ZodRawShape>, input),
  );
}

/** `--max-tokens`, `--limit`: integers, validated by the tool's schema afterwards. */
export const intArg = (value: string): number => (/^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN);

/** `--kinds issue,comment` → ['issue', 'comment']. */
export const listArg = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
