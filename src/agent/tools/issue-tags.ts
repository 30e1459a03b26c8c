import { z } from 'zod';
import type { IssueContext } from '../../memory/context/issue-context.js';
import { DEFAULT_TAG_VALUES, getIssueTags, type IssueTagDistribution } from '../../memory/context/issue-tags.js';
import type { Section } from '../budget.js';
import { askForMoreTokens, at, count, defineTool, fitAnswer, maxTokensInput, truncationOutput } from '../tool.js';

export const issueTagsTool = defineTool({
  name: 'get_issue_tags',
  title: 'Issue tags',
  description: [
    'Who and where one Sentry issue hits: for each tag (browser, os, device, environment, release, url, transaction, user,',
    'custom tags) how many events carry it and its most frequent values with their share of those events.',
    'Counts are Sentry’s at the last sync plus events received since.',
  ].join(' '),
  inputSchema: {
    issue: z.string().min(1).describe('Issue id (6507376925), short id (CHECKOUT-API-7) or Sentry issue URL'),
    key: z.string().min(1).optional().describe('Only this tag key, e.g. browser'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(20)
      .optional()
      .describe(`Values per key, most frequent first (default ${DEFAULT_TAG_VALUES})`),
    maxTokens: maxTokensInput,
  },
  outputSchema: {
    issue: z.string(),
    shortId: z.string().nullable(),
    syncedAt: z.string().nullable().describe('When Sentry’s counts were read; null: counted from received events only'),
    tags: z.array(
      z.object({
        key: z.string(),
        name: z.string().nullable(),
        total: z.number(),
        other: z.number().describe('Events with a value not listed among those kept'),
        values: z.array(z.object({ value: z.string(), count: z.number(), share: z.number().min(0).max(1) })),
      }),
    ),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const result = await getIssueTags(ctx.db, ctx.workspaceId, input.issue, { key: input.key, limit: input.limit });
    const head = [
      `## Tags of ${result.shortId ?? result.issue}${input.key ? ` (${input.key})` : ''}`,
      result.tags.length
        ? `Counts as of ${result.syncedAt ? `Sentry at ${at(result.syncedAt)} plus events since` : 'received events only'}.`
        : 'No tags stored for this issue yet (a sync reads them; new events add theirs).',
    ];
    const sections: Section[] = result.tags.map((tag, i) => ({
      key: tag.key,
      heading: `${tag.key} (${count(tag.total)} events)`,
      priority: i,
      lines: tagLines(tag),
    }));
    const fitted = fitAnswer(head, sections, input.maxTokens, askForMoreTokens);
    return {
      markdown: fitted.markdown,
      structured: {
        ...result,
        tags: result.tags
          .map((tag) => ({ ...tag, values: fitted.keep(tag.key, tag.values) }))
          .filter((tag, i) => tag.values.length || !result.tags[i].values.length),
        truncated: fitted.truncated,
      },
    };
  },
});

function tagLines(tag: IssueTagDistribution): string[] {
  const lines = tag.values.map((v) => `- ${v.value}: ${percent(v.share)} (${count(v.count)})`);
  if (tag.other) lines.push(`- other values: ${percent(tag.other / tag.total)} (${count(tag.other)})`);
  return lines;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** get_issue_context's "who is affected" section. */
export function affectedSection(issue: IssueContext): Section & { key: 'who is affected' } {
  return {
    key: 'who is affected',
    heading: 'Who is affected',
    priority: 1,
    lines: issue.affected.map(
      (a) =>
        `- ${a.key} **${a.value}**: ${percent(a.share)} of events${a.projectShare !== null ? ` (project: ${percent(a.projectShare)})` : ''}`,
    ),
  };
}
