import { z } from 'zod';

/**
 * Typed parsing of every Sentry webhook. Lenient where Sentry varies (unknown fields are kept,
 * ids may be numbers or strings), strict on what processing relies on (the ids that key records).
 */

const id = z.union([z.string().min(1), z.number()]).transform(String);
const loose = z.looseObject({});
type Loose = z.infer<typeof loose>;

const envelope = z.looseObject({
  action: z.string().min(1),
  installation: z.looseObject({ uuid: z.string() }).nullish(),
  actor: z
    .looseObject({
      type: z.string().optional(),
      id: z.union([z.string(), z.number()]).optional(),
      name: z.string().nullish(),
    })
    .nullish(),
  data: loose,
});

const dataSchemas = {
  installation: z.looseObject({
    installation: z.looseObject({
      uuid: z.string().min(1),
      status: z.string().optional(),
      code: z.string().nullish(),
      organization: loose.nullish(),
      app: loose.nullish(),
    }),
  }),
  issue: z.looseObject({ issue: z.looseObject({ id }) }),
  error: z.looseObject({ error: z.looseObject({ event_id: z.string().min(1) }) }),
  event_alert: z.looseObject({
    event: z.looseObject({ event_id: z.string().min(1) }),
    triggered_rule: z.string().nullish(),
    issue_alert: loose.nullish(),
  }),
  metric_alert: z.looseObject({
    metric_alert: z.looseObject({ id, alert_rule: loose.nullish() }),
    description_text: z.string().nullish(),
    description_title: z.string().nullish(),
    web_url: z.string().nullish(),
  }),
  comment: z.looseObject({
    comment_id: id,
    issue_id: id,
    comment: z.string().nullish(),
    project_slug: z.string().nullish(),
    timestamp: z.string().nullish(),
  }),
  seer: z.looseObject({ group_id: id, run_id: id.nullish() }),
} as const;

export const webhookActions = {
  installation: ['created', 'deleted'],
  issue: ['created', 'resolved', 'assigned', 'ignored', 'archived', 'unresolved'],
  error: ['created'],
  event_alert: ['triggered'],
  metric_alert: ['critical', 'warning', 'resolved', 'open'],
  comment: ['created', 'updated', 'deleted'],
  seer: [
    'root_cause_started',
    'root_cause_completed',
    'solution_started',
    'solution_completed',
    'coding_started',
    'coding_completed',
    'triage_started',
    'triage_completed',
    'impact_assessment_started',
    'impact_assessment_completed',
    'pr_created',
  ],
} as const;

export type WebhookResource = keyof typeof webhookActions;
type Data<R extends WebhookResource> = z.infer<(typeof dataSchemas)[R]>;

interface Common {
  installationUuid: string | null;
  actor: { type: string | null; id: string | null; name: string | null } | null;
  /** When Sentry sent it (`Sentry-Hook-Timestamp`), which orders facts Sentry does not timestamp. */
  sentAt: string;
  /** The receiver's delivery order (the inbox sequence), which orders facts sent within the same second. */
  arrival: number | null;
}

export type SentryWebhookEvent = {
  [R in WebhookResource]: Common & { resource: R; action: (typeof webhookActions)[R][number]; data: Data<R> };
}[WebhookResource];

export type WebhookParseResult =
  | { ok: true; event: SentryWebhookEvent }
  /** `unsupported`: a resource or action this version does not know; kept raw, not an error. */
  | { ok: false; unsupported: boolean; reason: string };

export function isWebhookResource(resource: string): resource is WebhookResource {
  return Object.hasOwn(webhookActions, resource);
}

export function parseWebhook(
  resource: string,
  body: unknown,
  sentAt: string,
  arrival: number | null = null,
): WebhookParseResult {
  const outer = envelope.safeParse(body);
  if (!outer.success)
    return { ok: false, unsupported: false, reason: `invalid webhook envelope: ${z.prettifyError(outer.error)}` };
  if (!isWebhookResource(resource)) return { ok: false, unsupported: true, reason: `unknown resource "${resource}"` };
  const { action, installation, actor } = outer.data;
  if (!(webhookActions[resource] as readonly string[]).includes(action)) {
    return { ok: false, unsupported: true, reason: `unknown action "${action}" for resource "${resource}"` };
  }
  const data = dataSchemas[resource].safeParse(outer.data.data);
  if (!data.success)
    return {
      ok: false,
      unsupported: false,
      reason: `invalid ${resource}.${action} payload: ${z.prettifyError(data.error)}`,
    };
  const common: Common = {
    installationUuid: installation?.uuid ?? null,
    actor: actor
      ? { type: actor.type ?? null, id: actor.id == null ? null : String(actor.id), name: actor.name ?? null }
      : null,
    sentAt,
    arrival,
  };
  return { ok: true, event: { ...common, resource, action, data: data.data } as SentryWebhookEvent };
}

export type { Loose as LooseObject };
