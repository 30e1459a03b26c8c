import { PermanentError, type DeliveryProcessor } from '../../queue/delivery.js';
import { isInstallationDeleted } from '../auth/connections.js';
import { mapWebhookEvent } from '../mapping/webhook.js';
import { parseWebhook } from './payloads.js';

/** Turns a stored Sentry delivery into memory records (inside the worker's transaction). */
export function createSentryProcessor(): DeliveryProcessor {
  return async (tx, row) => {
    const parsed = parseWebhook(row.resource, JSON.parse(row.body), row.sent_at, row.seq);
    if (!parsed.ok) {
      if (parsed.unsupported) return { skip: parsed.reason };
      throw new PermanentError(parsed.reason);
    }
    const event = parsed.event;
    if (
      event.resource !== 'installation' &&
      event.installationUuid &&
      (await isInstallationDeleted(tx, row.workspace_id, event.installationUuid))
    ) {
      // An uninstalled integration's late deliveries are kept, not applied: uninstalling stops the data flow.
      return { skip: `installation ${event.installationUuid} was deleted` };
    }
    return { records: mapWebhookEvent(event) };
  };
}
