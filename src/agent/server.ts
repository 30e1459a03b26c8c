import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { agentError } from './errors.js';
import type { AgentTool, ToolContext } from './tool.js';
import { agentTools } from './tools/index.js';

export const SERVER_NAME = 'sentry-memory';
export const SERVER_VERSION = '0.1.0';

const INSTRUCTIONS = [
  'Memory of a Sentry organization, answered locally and deterministically (no LLM, no Sentry API calls).',
  'Start with search_memory to find issues, then get_issue_context for one issue; get_timeline for "what happened",',
  'get_release_context for a release, get_memory_status to see how fresh the memory is. Every answer fits a token budget (maxTokens).',
].join(' ');

/** The MCP server over one workspace, independent of transport (stdio or streamable HTTP). */
export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { instructions: INSTRUCTIONS });
  for (const tool of agentTools) register(server, tool as unknown as AgentTool<z.ZodRawShape, z.ZodRawShape>, ctx);
  return server;
}

function register(server: McpServer, tool: AgentTool<z.ZodRawShape, z.ZodRawShape>, ctx: ToolContext): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    // A bad cursor, an unknown issue, … become tool errors whose message says what to change; anything else the SDK reports as is.
    async (input: Record<string, unknown>): Promise<CallToolResult> => {
      try {
        const answer = await tool.run(ctx, input);
        return { content: [{ type: 'text', text: answer.markdown }], structuredContent: answer.structured };
      } catch (error) {
        const failure = agentError(error);
        if (!failure) throw error;
        return { content: [{ type: 'text', text: failure.markdown }], isError: true };
      }
    },
  );
}
