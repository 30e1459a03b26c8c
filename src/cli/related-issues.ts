import { relatedIssuesTool } from '../agent/tools/related-issues.js';
import type { MemoryStore } from '../memory/store.js';
import { printJson } from './options.js';
import { runToolOn } from './run-tool.js';

/** `issue X --related`: the find_related_issues answer (markdown, or its structured content with --json). */
export async function printRelatedIssues(
  store: MemoryStore,
  workspaceId: string,
  ref: string,
  flags: { limit?: number; maxTokens?: number; json?: boolean },
): Promise<void> {
  const answer = await runToolOn(store, workspaceId, relatedIssuesTool, {
    issue: ref,
    limit: flags.limit,
    maxTokens: flags.maxTokens,
  });
  if (flags.json) printJson(answer.structured);
  else console.log(answer.markdown);
}
