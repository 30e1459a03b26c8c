import { z } from 'zod';
import type { IssueContext } from '../../memory/context/issue-context.js';
import {
  DEFAULT_RELATED,
  getRelatedIssues,
  MAX_RELATED,
  type RelatedIssue,
  type RelatedReason,
} from '../../memory/context/related-issues.js';
import type { Section } from '../budget.js';
import { askForMoreTokens, at, defineTool, fitAnswer, maxTokensInput, truncationOutput } from '../tool.js';

const nullableString = z.string().nullable();

const reasonNames: Record<RelatedReason, string> = {
  fingerprint: 'same fingerprint',
  type_culprit: 'same error type and culprit',
  frame: 'same top in-app frame',
  seer_file: 'Seer root cause cites the same file',
};

export const relatedIssueSchema = z.object({
  id: z.string(),
  shortId: nullableString,
  title: nullableString,
  project: nullableString,
  status: nullableString,
  lastSeen: nullableString,
  reasons: z
    .array(z.enum(['fingerprint', 'type_culprit', 'frame', 'seer_file']))
    .describe(
      'Shared: grouping fingerprint (the same problem re-created), error type and culprit, top in-app frame, a file Seer’s root cause cites',
    ),
  resolvedIn: z
    .object({ at: nullableString, release: nullableString, commit: nullableString, comment: nullableString })
    .nullable()
    .describe('For a resolved issue: when, in which release or commit, and its newest comment'),
});

export const relatedIssuesTool = defineTool({
  name: 'find_related_issues',
  title: 'Related issues',
  description: [
    'Have we seen this before? Other Sentry issues, in any project, that look like the same problem as one issue:',
    'the same grouping fingerprint (re-created after it was resolved or merged), the same error type and culprit,',
    'the same top in-app frame, or a Seer root cause citing the same file. Most shared signs first, then resolved ones',
    'with how they were resolved (release, commit, newest comment) so a fix can be reused.',
  ].join(' '),
  inputSchema: {
    issue: z.string().min(1).describe('Issue id (6507376925), short id (CHECKOUT-API-7) or Sentry issue URL'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_RELATED)
      .optional()
      .describe(`Related issues to return (default ${DEFAULT_RELATED})`),
    maxTokens: maxTokensInput,
  },
  outputSchema: {
    issue: z.string(),
    shortId: nullableString,
    related: z.array(relatedIssueSchema),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const result = await getRelatedIssues(ctx.db, ctx.workspaceId, input.issue, { limit: input.limit });
    const head = [
      `## Seen before: ${result.shortId ?? result.issue}`,
      result.related.length
        ? `${result.related.length} related issue${result.related.length === 1 ? '' : 's'}, most alike first.`
        : 'No other issue in memory shares its fingerprint, error type and culprit, top in-app frame or Seer’s file.',
    ];
    const sections: Section[] = result.related.length
      ? [{ key: 'related', heading: 'Related issues', priority: 0, lines: result.related.map(relatedLine) }]
      : [];
    const fitted = fitAnswer(head, sections, input.maxTokens, askForMoreTokens);
    return {
      markdown: fitted.markdown,
      structured: { ...result, related: fitted.keep('related', result.related), truncated: fitted.truncated },
    };
  },
});

/** One related issue on one line: who, why, and how it was fixed. */
export function relatedLine(r: RelatedIssue): string {
  const fix = r.resolvedIn ? `; resolved${resolutionText(r.resolvedIn)}` : '';
  return `- **${r.shortId ?? r.id}** (${r.project ?? '?'}, ${r.status ?? '?'}) ${r.title ?? ''} — ${r.reasons.map((x) => reasonNames[x]).join(', ')}${fix}`;
}

function resolutionText(r: NonNullable<RelatedIssue['resolvedIn']>): string {
  return [
    r.at ? ` ${at(r.at)}` : '',
    r.release ? ` in release ${r.release}` : '',
    r.commit ? ` in commit ${r.commit.slice(0, 12)}` : '',
    r.comment ? ` — “${r.comment}”` : '',
  ].join('');
}

/** get_issue_context's "seen before" section. */
export function seenBeforeSection(issue: IssueContext): Section & { key: 'seen before' } {
  return { key: 'seen before', heading: 'Seen before', priority: 2, lines: issue.seenBefore.map(relatedLine) };
}
