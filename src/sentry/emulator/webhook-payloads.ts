/**
 * Webhook bodies as Sentry's integration platform sends them (see
 * test/fixtures/sentry/webhooks): `{action, actor, data, installation: {uuid}}`. Event
 * payloads use the ingest shape — snake_case frames, tags and headers as [key, value] pairs,
 * numeric project id — not the REST API shape.
 */
import type { ActivityRecord, EventRecord, IssueRecord, UserRecord } from './model.js';
import { groupingHash, serializeIssue } from './serialize.js';
import type { EmulatorState } from './state.js';

type Json = Record<string, unknown>;

export interface WebhookMessage {
  resource: string;
  body: Json;
}

const APPLICATION_ACTOR = { id: 'sentry', name: 'Sentry', type: 'application' };
const userActor = (user: UserRecord) => ({ type: 'user', id: Number(user.id), name: user.name });

function envelope(
  state: EmulatorState,
  resource: string,
  action: string,
  actor: Json,
  data: Json,
  installationUuid = state.primaryInstallation.uuid,
): WebhookMessage {
  return { resource, body: { action, actor, data, installation: { uuid: installationUuid } } };
}

export type IssueAction = 'created' | 'resolved' | 'unresolved' | 'assigned' | 'ignored';

export function issueWebhook(
  state: EmulatorState,
  action: IssueAction,
  issue: IssueRecord,
  actor: UserRecord | null,
): WebhookMessage {
  const { stats: _stats, ...payload } = serializeIssue(issue, state.store, {
    baseUrl: state.baseUrl,
    now: state.now(),
  });
  return envelope(state, 'issue', action, actor ? userActor(actor) : APPLICATION_ACTOR, { issue: payload });
}

/** The event in ingest (snake_case) form shared by error.created and event_alert.triggered. */
function ingestEvent(state: EmulatorState, event: EventRecord, issue: IssueRecord): Json {
  const { store, baseUrl } = state;
  const project = store.project(event.projectId);
  const org = store.data.organization.slug;
  const seconds = Date.parse(event.dateCreated) / 1000;
  return {
    _ref: Number(project.id),
    _ref_version: 2,
    contexts: { runtime: { name: project.runtime, type: 'runtime' } },
    culprit: issue.culprit,
    datetime: event.dateCreated,
    dist: null,
    event_id: event.eventId,
    environment: event.environment,
    exception: {
      values: [
        {
          mechanism: {
            type: event.exception.mechanism,
            handled: event.exception.handled,
            data: {},
            description: null,
            help_link: null,
            meta: null,
            synthetic: null,
          },
          stacktrace: {
            frames: event.exception.frames.map((f) => ({
              abs_path: f.absPath,
              colno: f.colNo,
              context_line: f.contextLine,
              errors: null,
              filename: f.filename,
              function: f.function,
              image_addr: null,
              in_app: f.inApp,
              instruction_addr: null,
              lineno: f.lineNo,
              module: f.module,
              package: null,
              platform: null,
              post_context: null,
              pre_context: null,
              raw_function: null,
              symbol: null,
              symbol_addr: null,
              trust: null,
              vars: null,
            })),
          },
          type: event.exception.type,
          value: event.exception.value,
        },
      ],
    },
    fingerprint: issue.fingerprint ?? ['{{ default }}'],
    grouping_config: { enhancements: 'emulator', id: 'newstyle:2023-01-11' },
    hashes: [groupingHash(issue)],
    issue_url: `${baseUrl}/api/0/issues/${issue.id}/`,
    issue_id: issue.id,
    key_id: '667532',
    level: event.level,
    location: issue.metadata.filename,
    logger: '',
    message: '',
    metadata: { ...issue.metadata },
    platform: issue.platform,
    project: Number(project.id),
    received: seconds,
    release: event.release,
    request: event.requestUrl
      ? {
          cookies: null,
          data: null,
          env: null,
          fragment: null,
          headers: [['User-Agent', 'Mozilla/5.0']],
          inferred_content_type: null,
          method: 'POST',
          query_string: [],
          url: event.requestUrl,
        }
      : null,
    sdk: { name: `sentry.${issue.platform}`, version: '8.0.0', integrations: [], packages: [] },
    tags: event.tags.map((t) => [t.key, t.value]),
    time_spent: null,
    timestamp: seconds,
    title: issue.title,
    type: 'error',
    url: `${baseUrl}/api/0/projects/${org}/${project.slug}/events/${event.eventId}/`,
    user: { id: event.user.id, email: event.user.email, ip_address: event.user.ipAddress },
    version: '7',
    web_url: `${baseUrl}/organizations/${org}/issues/${issue.id}/events/${event.eventId}/`,
  };
}

export function errorWebhook(state: EmulatorState, event: EventRecord, issue: IssueRecord): WebhookMessage {
  return envelope(state, 'error', 'created', APPLICATION_ACTOR, { error: ingestEvent(state, event, issue) });
}

export function eventAlertWebhook(
  state: EmulatorState,
  event: EventRecord,
  issue: IssueRecord,
  ruleTitle: string,
): WebhookMessage {
  return envelope(state, 'event_alert', 'triggered', APPLICATION_ACTOR, {
    event: ingestEvent(state, event, issue),
    triggered_rule: ruleTitle,
    issue_alert: { title: ruleTitle, settings: [] },
  });
}

export function commentWebhook(
  state: EmulatorState,
  note: ActivityRecord,
  issue: IssueRecord,
  author: UserRecord,
): WebhookMessage {
  return envelope(state, 'comment', 'created', userActor(author), {
    comment: String(note.data.text ?? ''),
    project_slug: state.store.project(issue.projectId).slug,
    comment_id: Number(note.id),
    issue_id: Number(issue.id),
    timestamp: note.dateCreated,
  });
}

export function installationWebhook(
  state: EmulatorState,
  installationUuid: string,
  code: string,
  installer: UserRecord,
): WebhookMessage {
  return envelope(
    state,
    'installation',
    'created',
    userActor(installer),
    {
      installation: {
        status: 'pending',
        organization: { slug: state.store.data.organization.slug },
        app: { uuid: state.app.uuid, slug: state.app.slug },
        code,
        uuid: installationUuid,
      },
    },
    installationUuid,
  );
}
