/**
 * Local Sentry emulator: a seeded organization served over HTTP with Sentry's REST paths,
 * shapes and difficulties (Link-header cursors, per-caller rate limits with headers on every
 * response, expiring tokens with single-use refresh tokens, latency, 5xx and dropped
 * connections), plus signed webhooks when data changes.
 *
 *   const emu = await startEmulator({ seed: 7, issues: 3000, webhookUrl });
 *   fetch(`${emu.url}/api/0/organizations/${emu.orgSlug}/issues/?query=`, { headers: { Authorization: `Bearer ${emu.internalToken}` } });
 *   await emu.resolveIssue(emu.data.issues[0].id);   // data changes + signed issue.resolved webhook
 *   await emu.close();
 *
 * Differences from the brief's sketch, on purpose:
 * - mutations that a person performs take an optional acting user id (default: the org owner);
 * - `createIssue({ project })` returns the new IssueRecord, `recordEvent` the new EventRecord;
 * - extra fields: `clientId`, `installationUuid`, a settable `webhookUrl`, `webhookDeliveries`,
 *   and stats for `unauthorized`, `serverErrors`, `dropped`;
 * - `epoch` option pins the end of the seeded history (default: start of today, UTC);
 * - the JWT grant is Sentry's `urn:sentry:params:oauth:grant-type:jwt-bearer` (the RFC name
 *   `urn:ietf:params:oauth:grant-type:jwt-bearer` is accepted too) with the JWT in
 *   `Authorization: Bearer`; `signClientSecretJwt` builds one.
 */
export { startEmulator } from './emulator.js';
export type { CreateIssueOptions, Emulator, EmulatorOptions, WebhookDelivery } from './emulator.js';
export { deliverWebhook } from './webhook-sender.js';
export type { DeliverOptions } from './webhook-sender.js';
export { signClientSecretJwt } from './jwt.js';
export { JWT_BEARER_GRANTS } from './routes/auth-routes.js';
export type { EmulatorStats } from './state.js';
export type * from './model.js';
