import { Command } from 'commander';
import { timelineTool } from '../agent/tools/timeline.js';
import { dbOption, jsonOption, printJson } from './options.js';
import { intArg, listArg, runTool } from './run-tool.js';

export function timelineCommand(): Command {
  return new Command('timeline')
    .description('what happened in a window: new, regressed, resolved, assigned, alerts, deploys, comments')
    .option('--since <when>', 'start of the window, e.g. 24h, 7d or an ISO date (default 24h)')
    .option('--until <when>', 'end of the window (default now)')
    .option('--project <slug>', 'only this project')
    .option('--environment <name>', 'only this environment')
    .option(
      '--kinds <kinds>',
      'only these kinds, comma-separated (new, regressed, resolved, reopened, archived, assigned, alert, deploy, release, comment, seer)',
      listArg,
    )
    .option('--limit <n>', 'items per page (default 50, at most 200)', intArg)
    .option('--cursor <cursor>', 'continue with older items')
    .option('--max-tokens <n>', 'token budget of the answer (default 2000)', intArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      const { db: _db, json, ...input } = flags;
      const answer = await runTool(flags, timelineTool, input);
      if (json) printJson(answer.structured);
      else console.log(answer.markdown);
    });
}
