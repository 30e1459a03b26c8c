import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../../src/agent/budget.js';
import { agentFixture, call, text } from '../../helpers/agent-service.js';

const fx = agentFixture();

describe('search_memory', () => {
  it('finds the fixture issue', async () => {
    const search = await call(fx.client, 'search_memory', { query: 'blooopy' });
    expect(search.isError).toBeFalsy();
    const hit = (search.structuredContent as { hits: { issueId: string; shortId: string }[] }).hits[0];
    expect(hit).toMatchObject({ issueId: '1170820242', shortId: 'FRONT-END-9' });
    expect(text(search)).toContain('FRONT-END-9');
  });

  it('answers fit the token budget; what is cut is named, with a cursor to continue', async () => {
    const big = await call(fx.client, 'search_memory', { query: 'error', limit: 50, maxTokens: 400 });
    expect(estimateTokens(text(big))).toBeLessThanOrEqual(400);
    const content = big.structuredContent as {
      hits: { id: string }[];
      nextCursor: string;
      truncated: { omitted: { results: number } };
    };
    expect(content.truncated.omitted.results).toBeGreaterThan(0);
    const next = await call(fx.client, 'search_memory', {
      query: 'error',
      limit: 50,
      maxTokens: 400,
      cursor: content.nextCursor,
    });
    const nextIds = (next.structuredContent as { hits: { id: string }[] }).hits.map((h) => h.id);
    expect(nextIds.some((id) => content.hits.some((h) => h.id === id))).toBe(false);
  });

  it('bad input comes back as a tool error that says what to change', async () => {
    const badLimit = await call(fx.client, 'search_memory', { query: 'error', limit: 500 });
    expect(badLimit.isError).toBe(true);
    expect(text(badLimit)).toMatch(/limit/);
  });
});
