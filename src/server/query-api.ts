import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { agentError } from '../agent/errors.js';
import { parseToolInput, type AgentTool, type ToolContext } from '../agent/tool.js';
import {
  issueContextTool,
  issueTagsTool,
  relatedIssuesTool,
  releaseContextTool,
  searchTool,
  statusTool,
  timelineTool,
} from '../agent/tools/index.js';

type AnyTool = AgentTool<z.ZodRawShape, z.ZodRawShape>;
type Query = Record<string, string | string[] | undefined>;

/** Query strings are text: numbers and lists are converted here, then the tool's schema validates them. */
const NUMERIC = new Set(['limit', 'maxTokens']);
const LISTS = new Set(['kinds']);

function toolInput(query: Query, extra: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    // `q` is the conventional name of a search query; the tool calls it `query`.
    const key = name === 'q' ? 'query' : name;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (text === undefined) continue;
    input[key] = NUMERIC.has(key)
      ? /^\d+$/.test(text)
        ? Number(text)
        : text
      : LISTS.has(key)
        ? text.split(',').filter(Boolean)
        : text;
  }
  return { ...input, ...extra };
}

/**
 * `/api/v1/*`: the agent tools as JSON. Each answer is the tool's structured content (the same
 * budget and cuts as over MCP); `?format=markdown` returns the markdown an agent would read.
 */
export async function queryApiRoutes(
  app: FastifyInstance,
  options: { context: (workspaceId: string) => ToolContext },
): Promise<void> {
  const answer =
    (tool: AnyTool, extra: (request: FastifyRequest) => Record<string, string> = () => ({})) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { format, ...query } = request.query as Query;
      try {
        const result = await tool.run(
          options.context(request.agentWorkspaceId!),
          parseToolInput(tool, toolInput(query, extra(request))),
        );
        if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(result.markdown);
        return reply.send(result.structured);
      } catch (error) {
        const failure = agentError(error);
        if (!failure) throw error;
        return reply.code(failure.missing ? 404 : 400).send({ error: failure.markdown });
      }
    };
  const params = (request: FastifyRequest) => request.params as Record<string, string>;
  app.get('/api/v1/search', answer(searchTool as unknown as AnyTool));
  app.get(
    '/api/v1/issues/:issue',
    answer(issueContextTool as unknown as AnyTool, (request) => ({ issue: params(request).issue })),
  );
  app.get(
    '/api/v1/issues/:issue/tags',
    answer(issueTagsTool as unknown as AnyTool, (request) => ({ issue: params(request).issue })),
  );
  app.get(
    '/api/v1/issues/:issue/related',
    answer(relatedIssuesTool as unknown as AnyTool, (request) => ({ issue: params(request).issue })),
  );
  app.get('/api/v1/timeline', answer(timelineTool as unknown as AnyTool));
  app.get(
    '/api/v1/releases/:version',
    answer(releaseContextTool as unknown as AnyTool, (request) => ({ version: params(request).version })),
  );
  app.get('/api/v1/status', answer(statusTool as unknown as AnyTool));
}
