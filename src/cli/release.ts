import { Command } from 'commander';
import { releaseContextTool } from '../agent/tools/release-context.js';
import { dbOption, jsonOption, printJson } from './options.js';
import { intArg, runTool } from './run-tool.js';

export function releaseCommand(): Command {
  return new Command('release')
    .description('one release: deploys, new issues, regressions after its deploys, issues resolved in it, commits')
    .argument('<version>', 'release version, e.g. checkout-api@2.14.0')
    .option('--max-tokens <n>', 'token budget of the answer (default 2000)', intArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (version: string, flags) => {
      const answer = await runTool(flags, releaseContextTool, { version, maxTokens: flags.maxTokens });
      if (flags.json) printJson(answer.structured);
      else console.log(answer.markdown);
    });
}
