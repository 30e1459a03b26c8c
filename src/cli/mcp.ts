import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command } from 'commander';
import { createMcpServer } from '../agent/server.js';
import { dbOption, withStore } from './options.js';
import { systemClock } from '../time.js';

/**
 * `mcp`: the memory as an MCP server over stdio, for local agents (Claude Code, Cursor). Whoever can
 * start the process can read the database file anyway, so stdio needs no API key. stdout carries the
 * protocol: nothing else may be printed there.
 */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description('serve the memory to a local agent over MCP (stdio)')
    .addOption(dbOption())
    .option('--workspace <id>', 'workspace to answer from (env SENTRY_MEMORY_WORKSPACE, default "default")')
    .action(async (flags) => {
      await withStore(flags, async (store, workspaceId) => {
        const server = createMcpServer({ db: store.db, workspaceId, now: systemClock });
        const transport = new StdioServerTransport();
        await new Promise<void>((resolve, reject) => {
          transport.onclose = resolve;
          server.connect(transport).catch(reject);
          process.stdin.once('end', resolve);
        });
        await server.close();
      });
    });
}
