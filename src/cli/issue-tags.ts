import { issueTagsTool } from '../agent/tools/issue-tags.js';
import type { MemoryStore } from '../memory/store.js';
import { printJson } from './options.js';
import { runToolOn } from './run-tool.js';

/** `issue X --tags [KEY]`: the get_issue_tags answer (markdown, or its structured content with --json). */
export async function printIssueTags(
  store: MemoryStore,
  workspaceId: string,
  ref: string,
  flags: { tags: string | true; maxTokens?: number; json?: boolean },
): Promise<void> {
  const answer = await runToolOn(store, workspaceId, issueTagsTool, {
    issue: ref,
    key: flags.tags === true ? undefined : flags.tags,
    maxTokens: flags.maxTokens,
  });
  if (flags.json) printJson(answer.structured);
  else console.log(answer.markdown);
}
