import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/sentry/webhooks/signature.js';
import { deliverWebhook, startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { fixture, missingKeys } from './helpers.js';

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: {
    action: string;
    actor: Record<string, unknown>;
    data: Record<string, Record<string, unknown>>;
    installation: { uuid: string };
  };
}

describe('webhooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  let received: Received[] = [];
  let emu: Emulator;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ headers: req.headers, raw, body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    emu = await startEmulator({ seed: 9, issues: 50, webhookUrl: receiverUrl });
  });
  afterAll(async () => {
    await emu.close();
    await new Promise((resolve) => receiver.close(resolve));
  });
  beforeEach(() => {
    received = [];
  });

  function expectSigned(hook: Received, resource: string) {
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers['sentry-hook-resource']).toBe(resource);
    expect(hook.headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(hook.headers['sentry-hook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifySignature(hook.raw, hook.headers['sentry-hook-signature'] as string, [emu.clientSecret])).toBe(true);
    expect(verifySignature(hook.raw, hook.headers['sentry-hook-signature'] as string, ['other-secret'])).toBe(false);
    expect(hook.body.installation.uuid).toBe(emu.installationUuid);
  }

  it('sends signed issue webhooks for status and assignment changes', async () => {
    const issue = emu.data.issues.find((i) => i.status === 'unresolved')!;
    await emu.resolveIssue(issue.id);
    await emu.unresolveIssue(issue.id);
    await emu.ignoreIssue(issue.id);
    const team = emu.data.teams[0];
    await emu.assignIssue(issue.id, { type: 'team', id: team.id });
    expect(received.map((h) => h.body.action)).toEqual(['resolved', 'unresolved', 'ignored', 'assigned']);
    for (const hook of received) expectSigned(hook, 'issue');

    const [resolved, regressed, ignored, assigned] = received;
    expect(resolved.body.data.issue).toMatchObject({ id: issue.id, status: 'resolved' });
    expect(resolved.body.actor).toEqual({
      type: 'user',
      id: Number(emu.data.users[0].id),
      name: emu.data.users[0].name,
    });
    expect(regressed.body.data.issue).toMatchObject({ status: 'unresolved', substatus: 'regressed' });
    expect(regressed.body.actor).toEqual({ id: 'sentry', name: 'Sentry', type: 'application' });
    expect(ignored.body.data.issue).toMatchObject({ status: 'ignored' });
    expect(assigned.body.data.issue.assignedTo).toEqual({ type: 'team', id: team.id, name: team.slug });
    expect(
      missingKeys((fixture('webhooks/issue.created.json') as Received['body']).data.issue, resolved.body.data.issue),
    ).toEqual([]);
    expect(issue.status).toBe('ignored');
    expect(issue.activity.map((a) => a.type).slice(-4)).toEqual([
      'set_resolved',
      'set_regression',
      'set_ignored',
      'assigned',
    ]);
  });

  it('sends issue.created and error.created for a new issue, shaped like the fixtures', async () => {
    const issue = await emu.createIssue({ project: emu.data.projects[1].slug });
    expect(received.map((h) => `${h.headers['sentry-hook-resource']}.${h.body.action}`)).toEqual([
      'issue.created',
      'error.created',
    ]);
    const error = received[1].body.data.error;
    const fixtureError = (fixture('webhooks/error.created.json') as Received['body']).data.error;
    expect(missingKeys(fixtureError, error)).toEqual([]);
    expect(error.issue_id).toBe(issue.id);
    expect(typeof error.project).toBe('number');
    const frames = (error.exception as { values: { stacktrace: { frames: Record<string, unknown>[] } }[] }).values[0]
      .stacktrace.frames;
    expect(frames[0]).toHaveProperty('abs_path');
    expect(frames[0]).toHaveProperty('in_app');
    expect((error.tags as unknown[])[0]).toEqual([expect.any(String), expect.any(String)]);
    expect(emu.data.issues).toContain(issue);
  });

  it('regresses a resolved issue when a new event arrives', async () => {
    const issue = emu.data.issues.find((i) => i.status === 'resolved')!;
    const before = issue.count;
    const event = await emu.recordEvent(issue.id);
    expect(issue.count).toBe(before + 1);
    expect(issue.lastSeen).toBe(event.dateCreated);
    expect(issue.substatus).toBe('regressed');
    expect(received.map((h) => `${h.headers['sentry-hook-resource']}.${h.body.action}`)).toEqual([
      'issue.unresolved',
      'error.created',
    ]);
  });

  it('sends comment.created, event_alert.triggered and installation.created', async () => {
    const issue = emu.data.issues[0];
    const { id } = await emu.addComment(issue.id, 'Looking into it', emu.data.users[1].id);
    await emu.triggerIssueAlert(issue.id, 'Very Important Alert Rule!');
    const { uuid, code } = await emu.createInstallation();
    const [comment, alert, install] = received;

    expectSigned(comment, 'comment');
    expect(comment.body.data).toEqual({
      comment: 'Looking into it',
      project_slug: expect.any(String),
      comment_id: Number(id),
      issue_id: Number(issue.id),
      timestamp: expect.any(String),
    });
    expect(comment.body.actor).toMatchObject({ type: 'user', id: Number(emu.data.users[1].id) });

    expectSigned(alert, 'event_alert');
    expect(
      missingKeys((fixture('webhooks/event_alert.triggered.json') as Received['body']).data, alert.body.data),
    ).toEqual([]);
    expect(alert.body.data.issue_alert).toEqual({ title: 'Very Important Alert Rule!', settings: [] });

    expect(install.headers['sentry-hook-resource']).toBe('installation');
    expect(install.body.installation.uuid).toBe(uuid);
    expect(install.body.data.installation).toMatchObject({
      status: 'pending',
      code,
      uuid,
      organization: { slug: 'acme' },
    });
    expect(emu.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
  });

  it('deliverWebhook signs arbitrary bodies with the given id and timestamp', async () => {
    const body = fixture('webhooks/issue.created.json');
    const res = await deliverWebhook(receiverUrl, 'shh', 'issue', body, {
      requestId: 'req-1',
      timestamp: 1_700_000_000,
    });
    expect(res.status).toBe(200);
    const [hook] = received;
    expect(hook.headers['request-id']).toBe('req-1');
    expect(hook.headers['sentry-hook-timestamp']).toBe('1700000000');
    expect(hook.raw).toBe(JSON.stringify(body));
    expect(verifySignature(hook.raw, hook.headers['sentry-hook-signature'] as string, ['shh'])).toBe(true);
  });
});
