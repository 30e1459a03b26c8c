import { Command } from 'commander';
import { searchTool } from '../agent/tools/search.js';
import { dbOption, jsonOption, printJson } from './options.js';
import { intArg, listArg, runTool } from './run-tool.js';

export function searchCommand(): Command {
  return new Command('search')
    .description('search issues, comments, Seer analyses and alerts (ranked by relevance, recency and impact)')
    .argument('<text>', 'words to search for')
    .option('--project <slug>', 'only this project')
    .option('--environment <name>', 'only issues seen in this environment')
    .option('--release <version>', 'only issues first/last seen in, or with events of, this release')
    .option('--level <level>', 'only this level (fatal, error, warning, info, debug)')
    .option('--status <status>', 'only issues with this status (unresolved, resolved, ignored)')
    .option(
      '--kinds <kinds>',
      'only these kinds, comma-separated: issue, comment, insight, alert, observation (timeline entries; not searched by default)',
      listArg,
    )
    .option('--since <when>', 'only what was active since, e.g. 7d, 12h or an ISO date')
    .option('--until <when>', 'only what was active until, e.g. 1d or an ISO date')
    .option('--sort <order>', 'relevance (default), events, users or recent')
    .option('--limit <n>', 'results per page (default 10, at most 50)', intArg)
    .option('--cursor <cursor>', 'continue from a previous answer')
    .option('--max-tokens <n>', 'token budget of the text answer (default 2000)', intArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (text: string, flags) => {
      const { db: _db, json, maxTokens, ...filters } = flags;
      const answer = await runTool(flags, searchTool, { query: text, ...filters, maxTokens });
      // --json: the hits, for scripts; the cursor and notes are in the text answer.
      if (json) printJson(answer.structured.hits);
      else console.log(answer.markdown);
    });
}
