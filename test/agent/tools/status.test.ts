import { describe, expect, it } from 'vitest';
import { agentFixture, call } from '../../helpers/agent-service.js';

const fx = agentFixture();

describe('get_memory_status', () => {
  it('every project in memory', async () => {
    const status = await call(fx.client, 'get_memory_status', {});
    const projects = (status.structuredContent as { projects: { slug: string }[] }).projects.map((p) => p.slug);
    expect(projects).toEqual(expect.arrayContaining([...fx.service.data.projects.map((p) => p.slug), 'front-end']));
  });
});
