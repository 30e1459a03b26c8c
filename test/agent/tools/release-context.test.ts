import { describe, expect, it } from 'vitest';
import { agentFixture, call } from '../../helpers/agent-service.js';

const fx = agentFixture();

describe('get_release_context', () => {
  it('the issues a release introduced', async () => {
    const release = fx.service.data.releases.find((r) =>
      fx.service.data.issues.some((i) => i.firstRelease === r.version),
    )!;
    const releaseAnswer = await call(fx.client, 'get_release_context', { version: release.version });
    expect((releaseAnswer.structuredContent as { newIssues: { total: number } }).newIssues.total).toBe(
      fx.service.data.issues.filter((i) => i.firstRelease === release.version).length,
    );
  });
});
