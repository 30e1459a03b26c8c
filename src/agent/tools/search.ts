import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../../memory/context/cursor.js';
import { DOC_KINDS, SEARCH_ORDERS, searchMemory, type SearchHit } from '../../memory/context/search.js';
import { at, count, defineTool, fitAnswer, maxTokensInput, timeArg, timeInput, truncationOutput } from '../tool.js';

const LEVELS = ['fatal', 'error', 'warning', 'info', 'debug'] as const;
const STATUSES = ['unresolved', 'resolved', 'ignored'] as const;

const hitOutput = z.object({
  kind: z.enum(DOC_KINDS),
  id: z.string(),
  title: z.string(),
  occurredAt: z.string().nullable(),
  issueId: z.string().nullable(),
  shortId: z.string().nullable(),
  project: z.string().nullable(),
  status: z.string().nullable(),
  level: z.string().nullable(),
  count: z.number().nullable(),
  userCount: z.number().nullable(),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  score: z.number(),
});

const isOffset = (v: unknown): v is { offset: number } =>
  typeof v === 'object' && v !== null && Number.isInteger((v as { offset: number }).offset);

export const searchTool = defineTool({
  name: 'search_memory',
  title: 'Search Sentry memory',
  description: [
    'Full-text search over the Sentry issues in memory, with their comments, Seer analyses and alerts.',
    'Ranks by word relevance (BM25) blended with recency and impact (events, users); a comment holding every word ranks as a mention, newest first. All words must match; if none do, any word may.',
    'Use it to find issues by error type, message, function, file, project or comment text; narrow with filters.',
    "To list a project's noisiest issues, search its slug with project and sort=events.",
    'Each result carries an issueId/shortId to pass to get_issue_context.',
  ].join(' '),
  inputSchema: {
    query: z.string().min(1).describe('Words to look for, e.g. "TypeError checkout total" or "payment timeout"'),
    project: z.string().optional().describe('Only this project (slug, case-insensitive)'),
    environment: z.string().optional().describe('Only issues seen in this environment, e.g. production'),
    release: z
      .string()
      .optional()
      .describe('Only issues first or last seen in, or with events of, this release version'),
    level: z.enum(LEVELS).optional().describe('Only issues of this level'),
    status: z.enum(STATUSES).optional().describe('Only issues with this status'),
    kinds: z
      .array(z.enum(DOC_KINDS))
      .optional()
      .describe(
        'Only these kinds of record (default: issue, comment, insight = Seer analysis, alert; add observation for timeline entries such as "resolved", "assigned", "deployed")',
      ),
    since: timeInput('Only records active since'),
    until: timeInput('Only records active until'),
    sort: z
      .enum(SEARCH_ORDERS)
      .optional()
      .describe(
        'relevance (default: words blended with recency and impact), events or users (noisiest first), recent (last seen first)',
      ),
    limit: z.number().int().min(1).max(50).optional().describe('Results per page (default 10)'),
    cursor: z.string().optional().describe('nextCursor of a previous answer, for the next page'),
    maxTokens: maxTokensInput,
  },
  outputSchema: {
    query: z.string(),
    hits: z.array(hitOutput),
    match: z
      .enum(['all-words', 'any-word'])
      .describe('any-word: no record had every word, so records with some of them are shown'),
    strategy: z
      .enum(['ranked', 'recent'])
      .describe('recent: the words are very common, so only the most recently active matches were ranked'),
    nextCursor: z.string().nullable(),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const now = ctx.now();
    const offset = input.cursor ? decodeCursor(input.cursor, isOffset).offset : 0;
    const result = await searchMemory(ctx.db, ctx.workspaceId, {
      text: input.query,
      project: input.project,
      environment: input.environment,
      release: input.release,
      level: input.level,
      status: input.status,
      kinds: input.kinds,
      sort: input.sort,
      since: timeArg('since', input.since, now),
      until: timeArg('until', input.until, now),
      limit: input.limit,
      offset,
      now,
    });
    const head = [`## Search: "${input.query}"`];
    if (!result.hits.length) head.push('No matches. Try fewer or other words, or drop filters.');
    if (result.match === 'any-word') head.push('_No record has every word; showing records with some of them._');
    if (result.strategy === 'recent')
      head.push(
        '_Very common words: ranked among the most recently active matches. Add words or filters to reach older ones._',
      );
    const sections = [
      { key: 'results', heading: `${result.hits.length} results`, lines: result.hits.map(hitLine), priority: 0 },
    ];
    const fitted = fitAnswer(
      head,
      sections,
      input.maxTokens,
      'Call again with the nextCursor to continue.',
      'Call again with nextCursor to continue.',
    );
    const hits = fitted.keep('results', result.hits);
    const kept = hits.length;
    const more = kept < result.hits.length || result.more;
    const nextCursor = more ? encodeCursor({ offset: offset + kept }) : null;
    return {
      markdown: nextCursor ? `${fitted.markdown}\n\nMore results: cursor \`${nextCursor}\`` : fitted.markdown,
      structured: {
        query: input.query,
        hits,
        match: result.match,
        strategy: result.strategy,
        nextCursor,
        truncated: fitted.truncated,
      },
    };
  },
});

function hitLine(hit: SearchHit): string {
  const ref = hit.shortId ?? hit.issueId;
  const facts = [
    hit.project,
    hit.status,
    hit.level,
    hit.count != null ? `${count(hit.count)} events` : null,
    hit.userCount != null ? `${count(hit.userCount)} users` : null,
    `last ${at(hit.lastSeen ?? hit.occurredAt)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const label = hit.kind === 'issue' ? `**${hit.title}**` : `[${hit.kind}] ${hit.title}`;
  return `- ${label}${ref && hit.kind !== 'issue' ? ` (issue ${ref})` : ''} — ${facts}${hit.issueId ? ` — id ${hit.issueId}` : ''}`;
}
