import { describe, expect, it } from 'vitest';
import { agentFixture, call, text } from '../../helpers/agent-service.js';

const fx = agentFixture();

describe('get_timeline', () => {
  it('counts what happened in the window', async () => {
    const timeline = await call(fx.client, 'get_timeline', {
      since: '2026-11-13T00:00:00Z',
      until: '2026-11-20T00:00:00Z',
      kinds: ['deploy'],
    });
    const deploys = fx.service.data.releases
      .flatMap((r) => r.deploys)
      .filter((d) => d.dateFinished >= '2026-11-13T00:00:00Z' && d.dateFinished < '2026-11-20T00:00:00Z');
    expect((timeline.structuredContent as { counts: Record<string, number> }).counts.deploy).toBe(deploys.length);
  });

  it('a time it cannot read is a tool error that says how to write one', async () => {
    const badTime = await call(fx.client, 'get_timeline', { since: 'yesterday-ish' });
    expect(text(badTime)).toMatch(/since must be an ISO date\/time or a duration/);
  });
});
