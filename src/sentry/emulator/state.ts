import type { Store } from './store.js';
import type { TokenStore } from './tokens.js';

/** The public integration ("Sentry app") whose installations authenticate and receive webhooks. */
export interface SentryApp {
  uuid: string;
  slug: string;
  clientId: string;
  clientSecret: string;
}

export interface Installation {
  uuid: string;
  status: 'pending' | 'installed';
}

export interface EmulatorStats {
  requests: number;
  rateLimited: number;
  refreshes: number;
  unauthorized: number;
  serverErrors: number;
  dropped: number;
}

/** Everything routes and mutations share. */
export interface EmulatorState {
  store: Store;
  tokens: TokenStore;
  app: SentryApp;
  installations: Map<string, Installation>;
  /** The installation whose uuid data-change webhooks carry. */
  primaryInstallation: Installation;
  /** Set once the server listens; links and permalinks point here. */
  baseUrl: string;
  now: () => number;
  stats: EmulatorStats;
  /** While set, API requests wait for it before they are answered (a stalled Sentry). */
  hold: Promise<void> | null;
}
