import { Command } from 'commander';
import { issueContextTool } from '../agent/tools/issue-context.js';
import { printIssueTags } from './issue-tags.js';
import { getIssueTimeline } from '../memory/context/issue-context.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';
import { intArg, runToolOn } from './run-tool.js';

export function issueCommand(): Command {
  return new Command('issue')
    .description(
      'one issue in context: impact, releases, status history, comments, alerts, Seer, suspect deploys and commits',
    )
    .argument('<issue>', 'issue id, short id (e.g. FRONT-END-9) or Sentry issue URL')
    .option('--tags [key]', 'who and where it hits: tag values and their shares (all keys, or only KEY)')
    .option('--max-tokens <n>', 'token budget of the answer (default 2000)', intArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (ref: string, flags) =>
      withStore(flags, async (store, workspaceId) => {
        if (flags.tags) return printIssueTags(store, workspaceId, ref, flags);
        const answer = await runToolOn(store, workspaceId, issueContextTool, {
          issue: ref,
          maxTokens: flags.maxTokens,
        });
        if (!flags.json) return console.log(answer.markdown);
        // Scripts also get the issue's whole timeline (every observation, not only status changes).
        printJson({
          ...answer.structured,
          timeline: await getIssueTimeline(store.db, workspaceId, answer.structured.id),
        });
      }),
    );
}
