/**
 * What a delivery is, for both sides of the inbox: the senders that store it (a source's webhook
 * receiver, the inbox thread) and the processors that turn it into memory (a source's processor,
 * the worker). Types only, so that neither side imports the other's implementation.
 */
import type { Selectable } from 'kysely';
import type { MemoryDatabase } from '../memory/database.js';
import type { MemoryRecord } from '../memory/records.js';
import type { InboxBodyTable, InboxTable } from '../memory/schema.js';

/** A delivery as a source hands it over, before it is stored. */
export interface Delivery {
  workspaceId: string;
  source: string;
  deliveryId: string;
  resource: string;
  action: string | null;
  /** The source's installation/connection id, if the delivery names one. */
  externalId: string | null;
  /** Set when the delivery announces a new installation: what to name the workspace it may get. */
  newInstallation?: { name: string };
  sentAt: string;
  body: string;
}

/** Resolved once the delivery is committed: `duplicate` when its key was stored before. */
export type EnqueueResult = { accepted: true; duplicate: boolean; seq: number | null };

export type InboxState = InboxTable['state'];

/** A stored delivery: its inbox row and its body. */
export type InboxRow = Selectable<InboxTable> & Pick<InboxBodyTable, 'body'>;

/** Where a delivery is stored: its workspace, and whether it can be processed now or waits. */
export interface Route {
  workspaceId: string;
  state: Extract<InboxState, 'pending' | 'held'>;
}

/**
 * Picks each delivery's workspace, inside the inbox's insert transaction and before any row is
 * inserted: whatever it creates commits with the deliveries or not at all.
 */
export type DeliveryRouter = (tx: MemoryDatabase, deliveries: readonly Delivery[]) => Promise<Route[]>;

/** What processing one delivery produced: records to merge, or a reason it is kept but not processed. */
export type ProcessOutcome = { records: MemoryRecord[] } | { skip: string };

/** Runs inside the delivery's transaction `tx`; may read the memory through it. */
export type DeliveryProcessor = (tx: MemoryDatabase, row: InboxRow) => Promise<ProcessOutcome>;

/** A failure that retrying cannot fix (a malformed payload): the delivery goes dead at once. */
export class PermanentError extends Error {}
