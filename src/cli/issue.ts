import { Command } from 'commander';
import { ISSUE_CONTEXT_TOKENS, issueContextTool } from '../agent/tools/issue-context.js';
import { printIssueTags } from './issue-tags.js';
import { printRelatedIssues } from './related-issues.js';
import { getIssueTimeline } from '../memory/context/issue-context.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';
import { intArg, runToolOn } from './run-tool.js';

export function issueCommand(): Command {
  return new Command('issue')
    .description(
      'one issue in context: impact, releases, status history, comments, alerts, Seer, suspect deploys and commits',
    )
    .argument('<issue>', 'issue id, short id (e.g. FRONT-END-9) or Sentry issue URL')
    .option('--as-of <time>', 'the issue as it was then: ISO time or a duration before now (7d)')
    .option('--tags [key]', 'who and where it hits: tag values and their shares (all keys, or only KEY)')
    .option('--related', 'have we seen this before: related issues in any project, and how resolved ones were fixed')
    .option('--limit <n>', 'with --related: how many related issues (default 5)', intArg)
    .option('--max-tokens <n>', `token budget of the answer (default ${ISSUE_CONTEXT_TOKENS})`, intArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (ref: string, flags) =>
      withStore(flags, async (store, workspaceId) => {
        if (flags.tags) return printIssueTags(store, workspaceId, ref, flags);
        if (flags.related) return printRelatedIssues(store, workspaceId, ref, flags);
        const answer = await runToolOn(store, workspaceId, issueContextTool, {
          issue: ref,
          asOf: flags.asOf,
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
