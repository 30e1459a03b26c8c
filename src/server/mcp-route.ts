import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { createMcpServer } from '../agent/server.js';
import type { ToolContext } from '../agent/tool.js';

/**
 * `/mcp`: MCP over streamable HTTP, stateless — every POST gets its own server and transport bound
 * to the API key's workspace, so no session state is shared between keys or requests. With no
 * sessions there is no server-initiated stream, so GET and DELETE are 405 as the spec allows.
 */
export async function mcpRoute(
  app: FastifyInstance,
  options: { context: (workspaceId: string) => ToolContext },
): Promise<void> {
  app.post('/mcp', async (request, reply) => {
    const server = createMcpServer(options.context(request.agentWorkspaceId!));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request.raw, reply.raw, request.body);
  });
  const notAllowed = {
    jsonrpc: '2.0',
    error: { code: -32000, message: 'Method not allowed: this server is stateless, use POST' },
    id: null,
  };
  app.get('/mcp', async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
  app.delete('/mcp', async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
}
