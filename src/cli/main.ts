import { Command, CommanderError } from 'commander';
import { agentError } from '../agent/errors.js';
import { ConfigError } from '../config.js';
import { connectCommand } from './connect.js';
import { demoCommand } from './demo.js';
import { emulatorCommand } from './emulator.js';
import { apikeyCommand } from './apikey.js';
import { inboxCommand } from './inbox.js';
import { issueCommand } from './issue.js';
import { mcpCommand } from './mcp.js';
import { releaseCommand } from './release.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';
import { statusCommand } from './status.js';
import { syncCommand } from './sync.js';
import { timelineCommand } from './timeline.js';
import { workspaceCommand } from './workspace.js';

/** Exit codes: 0 ok, 1 not found or failure, 2 bad usage or configuration. */
const program = new Command('sentry-memory')
  .description('A live, queryable memory of a Sentry organization for AI agents')
  .exitOverride()
  .addCommand(serveCommand())
  .addCommand(searchCommand())
  .addCommand(issueCommand())
  .addCommand(timelineCommand())
  .addCommand(releaseCommand())
  .addCommand(statusCommand())
  .addCommand(inboxCommand())
  .addCommand(mcpCommand())
  .addCommand(apikeyCommand())
  .addCommand(workspaceCommand())
  .addCommand(connectCommand())
  .addCommand(syncCommand())
  .addCommand(emulatorCommand())
  .addCommand(demoCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exit(2);
  }
  const failure = agentError(error);
  if (failure) {
    console.error(`error: ${failure.markdown}`);
    process.exit(failure.missing ? 1 : 2);
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
