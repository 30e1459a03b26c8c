/** sentry-memory as a library: the pieces `serve` is made of, for apps that already have a web server. */
export { checkTimestamp, signBody, verifySignature, type TimestampCheck } from './sentry/webhooks/signature.js';
export {
  isWebhookResource,
  parseWebhook,
  webhookActions,
  type SentryWebhookEvent,
  type WebhookParseResult,
  type WebhookResource,
} from './sentry/webhooks/payloads.js';
export {
  createWebhookHandler,
  receiveSentryDelivery,
  type ReceiverOptions,
  type ReceiverReply,
} from './sentry/webhooks/receiver.js';
export { mapWebhookEvent } from './sentry/mapping/webhook.js';
export { mapApiIssue } from './sentry/mapping/api.js';
export { openRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
export { MemoryStore } from './memory/store.js';
export type * from './memory/records.js';
export type { Delivery, EnqueueResult } from './queue/delivery.js';
