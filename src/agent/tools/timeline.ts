import { z } from 'zod';
import {
  getTimeline,
  MAX_COUNTED,
  TIMELINE_KINDS,
  timelineCursor,
  type TimelineItem,
} from '../../memory/context/timeline.js';
import { at, count, defineTool, fitAnswer, maxTokensInput, timeArg, timeInput, truncationOutput } from '../tool.js';

export const timelineTool = defineTool({
  name: 'get_timeline',
  title: 'Timeline',
  description: [
    'What happened in a time window, newest first: new issues, regressions, resolutions, reopenings, archivals, assignments,',
    'alerts, deploys, releases, comments and Seer results — for the whole organization, one project or one environment.',
    'Totals per kind cover the whole window even when the list is paged. Default window: the last 24 hours.',
  ].join(' '),
  inputSchema: {
    since: timeInput('Start of the window (default 24h)'),
    until: timeInput('End of the window (default now)'),
    project: z.string().optional().describe('Only this project (slug)'),
    environment: z.string().optional().describe('Only this environment, e.g. production'),
    kinds: z
      .array(z.enum(TIMELINE_KINDS as [string, ...string[]]))
      .optional()
      .describe(`Only these kinds: ${TIMELINE_KINDS.join(', ')}`),
    limit: z.number().int().min(1).max(200).optional().describe('Items per page (default 50)'),
    cursor: z.string().optional().describe('nextCursor of a previous answer, for older items'),
    maxTokens: maxTokensInput,
  },
  outputSchema: {
    since: z.string(),
    until: z.string(),
    counts: z.record(z.string(), z.number()),
    countsCapped: z
      .boolean()
      .describe('true: some totals are lower bounds (counting stops at a cap); narrow the window for exact totals'),
    items: z.array(
      z.object({
        id: z.string(),
        occurredAt: z.string(),
        kind: z.string(),
        type: z.string(),
        summary: z.string(),
        issueId: z.string().nullable(),
        shortId: z.string().nullable(),
        project: z.string().nullable(),
        release: z.string().nullable(),
        environment: z.string().nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const now = ctx.now();
    const result = await getTimeline(ctx.db, ctx.workspaceId, {
      since: timeArg('since', input.since ?? '24h', now)!,
      until: timeArg('until', input.until, now) ?? new Date(now).toISOString(),
      project: input.project,
      environment: input.environment,
      kinds: input.kinds as (typeof TIMELINE_KINDS)[number][] | undefined,
      limit: input.limit,
      cursor: input.cursor,
    });
    const scope = [input.project && `project ${input.project}`, input.environment && `environment ${input.environment}`]
      .filter(Boolean)
      .join(', ');
    const totals = Object.entries(result.counts)
      .map(([kind, n]) => `${count(n)} ${kind}`)
      .join(' · ');
    const head = [
      `## Timeline ${at(result.since)} → ${at(result.until)}${scope ? ` (${scope})` : ''}`,
      totals
        ? `Totals${result.countsCapped ? ` (counted up to ${count(MAX_COUNTED)} per type of fact, so some are lower bounds; narrow the window for exact totals)` : ''}: ${totals}`
        : 'Nothing happened in this window.',
    ];
    const fitted = fitAnswer(
      head,
      [{ key: 'items', heading: 'Newest first', lines: result.items.map(itemLine), priority: 0 }],
      input.maxTokens,
      'Call again with nextCursor for older items.',
    );
    const kept = fitted.keep('items', result.items);
    const last = kept[kept.length - 1];
    const cut = kept.length < result.items.length;
    const nextCursor = cut && last ? timelineCursor(last.occurredAt, last.id) : result.nextCursor;
    return {
      markdown: nextCursor ? `${fitted.markdown}\n\nOlder items: cursor \`${nextCursor}\`` : fitted.markdown,
      structured: { ...result, items: kept, nextCursor, truncated: fitted.truncated },
    };
  },
});

function itemLine(item: TimelineItem): string {
  const where = [
    item.project,
    item.environment,
    item.release && !item.summary.includes(item.release) ? item.release : null,
  ]
    .filter(Boolean)
    .join(', ');
  return `- ${at(item.occurredAt)} [${item.kind}] ${item.summary}${where ? ` (${where})` : ''}`;
}
