import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newEvent } from './events.js';
import { FaultInjector } from './faults.js';
import type { ActivityRecord, Assignee, EmulatorData, EventRecord, IssueRecord, UserRecord } from './model.js';
import { Prng } from './prng.js';
import { RateLimiter } from './rate-limiter.js';
import { authRoutes } from './routes/auth-routes.js';
import { issueRoutes } from './routes/issue-routes.js';
import { orgRoutes } from './routes/org-routes.js';
import { releaseRoutes } from './routes/release-routes.js';
import { draftIssue, releaseAt, seedOrganization, type IdSequences } from './seed.js';
import { createEmulatorServer } from './server.js';
import type { EmulatorState, EmulatorStats, Installation } from './state.js';
import { Store } from './store.js';
import { TokenStore } from './tokens.js';
import {
  commentWebhook,
  errorWebhook,
  eventAlertWebhook,
  installationWebhook,
  issueWebhook,
  type WebhookMessage,
} from './webhook-payloads.js';
import { deliverWebhook } from './webhook-sender.js';

export interface EmulatorOptions {
  /** Deterministic PRNG seed (default 1). */
  seed?: number;
  /** Number of projects (default 3). */
  projects?: number;
  /** Total issues across projects (default 200). */
  issues?: number;
  /** Adds families of related issues and look-alikes after those (see related.ts). */
  related?: boolean;
  /** Listen port (default 0 = any free port). */
  port?: number;
  /** Listen host (default 127.0.0.1). */
  host?: string;
  /** Latency added to every request, ms (default 0). */
  latencyMs?: number;
  /**
   * Chaos, drawn from the seed (all default 0): per-request probabilities of a 5xx, of a destroyed
   * socket and of a 429 with `rateLimitRetryAfterSeconds` (default 1); and random extra latency per
   * request, uniform in [0, latencyJitterMs).
   */
  faults?: {
    serverErrorRate?: number;
    dropRate?: number;
    rateLimitRate?: number;
    rateLimitRetryAfterSeconds?: number;
    latencyJitterMs?: number;
  };
  /** Per-caller limits: fixed 1s window (default 40) and requests in flight (default 25). */
  rateLimit?: { perSecond?: number; concurrent?: number };
  /** Lifetime of installation/OAuth access tokens (default 8h, Sentry's). */
  tokenTtlSeconds?: number;
  /** Sentry-app client secret; derived from the seed when absent. Signs webhooks. */
  clientSecret?: string;
  /** Where signed webhooks go when data changes. */
  webhookUrl?: string;
  /** Clock in ms (default Date.now); drives token expiry, rate-limit windows and mutation times. */
  now?: () => number;
  /** The moment the seeded history ends (ms). Default: start of the current UTC day per `now`. */
  epoch?: number;
}

export interface WebhookDelivery {
  resource: string;
  action: string;
  /** HTTP status from the receiver, or null when delivery failed. */
  status: number | null;
  error?: string;
}

export interface CreateIssueOptions {
  /** Project slug; defaults to the first project. */
  project?: string;
}

export interface Emulator {
  url: string;
  orgSlug: string;
  /** Internal-integration token: never expires. */
  internalToken: string;
  clientId: string;
  clientSecret: string;
  /** The installed public-integration installation; data-change webhooks carry its uuid. */
  installationUuid: string;
  /** Receiver for data-change webhooks; may be set after start. */
  webhookUrl: string | undefined;
  data: EmulatorData;
  stats: EmulatorStats;
  webhookDeliveries: WebhookDelivery[];
  /** The emulator's clock (EmulatorOptions.now): a test's memory reads the same time as its Sentry. */
  readonly now: () => number;
  close(): Promise<void>;
  resolveIssue(id: string, byUserId?: string): Promise<void>;
  /** A regression: the issue reopens with substatus `regressed`, caused by Sentry itself. */
  unresolveIssue(id: string): Promise<void>;
  ignoreIssue(id: string, byUserId?: string): Promise<void>;
  assignIssue(id: string, to: Assignee | null, byUserId?: string): Promise<void>;
  addComment(issueId: string, text: string, userId?: string): Promise<{ id: string }>;
  /** New issue with its first event (issue.created + error.created). */
  createIssue(opts?: CreateIssueOptions): Promise<IssueRecord>;
  /** New event on an issue (error.created); a resolved issue regresses (issue.unresolved). */
  recordEvent(issueId: string): Promise<EventRecord>;
  /** event_alert.triggered for the issue's latest event. */
  triggerIssueAlert(issueId: string, ruleTitle?: string): Promise<void>;
  /** Public-integration install: sends installation.created with a one-time code. */
  createInstallation(): Promise<{ uuid: string; code: string }>;
  /** Makes every current (expiring) access token expire now. */
  expireTokens(): void;
  /** Stalls every API answer until the returned function is called: a test's way to keep a client busy. */
  hold(): () => void;
}

const DAY = 86_400_000;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const root = new Prng(seed);
  const appRng = root.fork('app');
  const seeded = seedOrganization({
    seed,
    projects: opts.projects ?? 3,
    issues: opts.issues ?? 200,
    related: opts.related,
    epoch: opts.epoch ?? Math.floor(now() / DAY) * DAY,
  });
  const ids: IdSequences = seeded.ids;
  const app = {
    uuid: appRng.uuid(),
    slug: 'sentry-memory',
    clientId: appRng.hex(64),
    clientSecret: opts.clientSecret ?? appRng.hex(64),
  };
  const primaryInstallation: Installation = { uuid: appRng.uuid(), status: 'installed' };
  const state: EmulatorState = {
    store: new Store(seeded.data),
    tokens: new TokenStore(root.fork('tokens'), now, (opts.tokenTtlSeconds ?? 8 * 3600) * 1000),
    app,
    installations: new Map([[primaryInstallation.uuid, primaryInstallation]]),
    primaryInstallation,
    baseUrl: '',
    now,
    stats: { requests: 0, rateLimited: 0, refreshes: 0, unauthorized: 0, serverErrors: 0, dropped: 0 },
    hold: null,
  };

  const server = createEmulatorServer({
    state,
    routes: [...orgRoutes(state), ...issueRoutes(state), ...releaseRoutes(state), ...authRoutes(state)],
    limiter: new RateLimiter(
      { perSecond: opts.rateLimit?.perSecond ?? 40, concurrent: opts.rateLimit?.concurrent ?? 25 },
      now,
    ),
    faults: new FaultInjector(root.fork('faults'), {
      serverErrorRate: opts.faults?.serverErrorRate ?? 0,
      dropRate: opts.faults?.dropRate ?? 0,
      rateLimitRate: opts.faults?.rateLimitRate ?? 0,
      rateLimitRetryAfterSeconds: opts.faults?.rateLimitRetryAfterSeconds ?? 1,
      latencyJitterMs: opts.faults?.latencyJitterMs ?? 0,
    }),
    latencyMs: opts.latencyMs ?? 0,
  });
  await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const address = server.address() as AddressInfo;
  state.baseUrl = `http://${opts.host ?? '127.0.0.1'}:${address.port}`;

  return new RunningEmulator(state, server, ids, root.fork('mutations'), opts.webhookUrl);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

class RunningEmulator implements Emulator {
  readonly url: string;
  readonly orgSlug: string;
  readonly internalToken: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly installationUuid: string;
  readonly data: EmulatorData;
  readonly stats: EmulatorStats;
  readonly webhookDeliveries: WebhookDelivery[] = [];
  readonly now: () => number;

  constructor(
    private readonly state: EmulatorState,
    private readonly server: Server,
    private readonly ids: IdSequences,
    private readonly rng: Prng,
    public webhookUrl: string | undefined,
  ) {
    this.url = state.baseUrl;
    this.orgSlug = state.store.data.organization.slug;
    this.internalToken = state.tokens.internalToken;
    this.clientId = state.app.clientId;
    this.clientSecret = state.app.clientSecret;
    this.installationUuid = state.primaryInstallation.uuid;
    this.data = state.store.data;
    this.stats = state.stats;
    this.now = state.now;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private get store() {
    return this.state.store;
  }

  private actor(userId: string | undefined): UserRecord {
    if (!userId) return this.store.owner;
    const user = this.store.user(userId);
    if (!user) throw new Error(`Unknown user ${userId}`);
    return user;
  }

  private addActivity(
    issue: IssueRecord,
    type: string,
    userId: string | null,
    data: Record<string, unknown> = {},
  ): ActivityRecord {
    const activity = {
      id: this.ids.nextActivityId(),
      issueId: issue.id,
      type,
      userId,
      data,
      dateCreated: new Date(this.state.now()).toISOString(),
    };
    issue.activity.push(activity);
    return activity;
  }

  /** Delivery failures are recorded, not thrown: Sentry does not care whether the receiver is up. */
  private async send(message: WebhookMessage): Promise<void> {
    if (!this.webhookUrl) return;
    const action = String(message.body.action);
    try {
      const res = await deliverWebhook(this.webhookUrl, this.clientSecret, message.resource, message.body, {
        requestId: this.rng.uuid(),
        timestamp: Math.floor(this.state.now() / 1000),
      });
      await res.arrayBuffer();
      this.webhookDeliveries.push({ resource: message.resource, action, status: res.status });
    } catch (err) {
      this.webhookDeliveries.push({ resource: message.resource, action, status: null, error: String(err) });
    }
  }

  async resolveIssue(id: string, byUserId?: string): Promise<void> {
    const issue = this.store.requireIssue(id);
    const actor = this.actor(byUserId);
    Object.assign(issue, { status: 'resolved', substatus: null });
    this.addActivity(issue, 'set_resolved', actor.id);
    await this.send(issueWebhook(this.state, 'resolved', issue, actor));
  }

  async unresolveIssue(id: string): Promise<void> {
    const issue = this.store.requireIssue(id);
    this.regress(issue);
    await this.send(issueWebhook(this.state, 'unresolved', issue, null));
  }

  private regress(issue: IssueRecord): void {
    Object.assign(issue, { status: 'unresolved', substatus: 'regressed' });
    this.addActivity(issue, 'set_regression', null, { version: issue.lastRelease ?? '' });
  }

  async ignoreIssue(id: string, byUserId?: string): Promise<void> {
    const issue = this.store.requireIssue(id);
    const actor = this.actor(byUserId);
    Object.assign(issue, { status: 'ignored', substatus: 'archived_until_escalating' });
    this.addActivity(issue, 'set_ignored', actor.id, { ignoreUntilEscalating: true });
    await this.send(issueWebhook(this.state, 'ignored', issue, actor));
  }

  async assignIssue(id: string, to: Assignee | null, byUserId?: string): Promise<void> {
    const issue = this.store.requireIssue(id);
    const actor = this.actor(byUserId);
    if (to && !(to.type === 'user' ? this.store.user(to.id) : this.store.team(to.id)))
      throw new Error(`Unknown ${to.type} ${to.id}`);
    issue.assignedTo = to ? { ...to } : null;
    if (to) this.addActivity(issue, 'assigned', actor.id, { assignee: to.id, assigneeType: to.type });
    else this.addActivity(issue, 'unassigned', actor.id);
    // Sentry's issue webhooks have no "unassigned" action; unassigning sends nothing.
    if (to) await this.send(issueWebhook(this.state, 'assigned', issue, actor));
  }

  async addComment(issueId: string, text: string, userId?: string): Promise<{ id: string }> {
    const issue = this.store.requireIssue(issueId);
    const author = this.actor(userId);
    const note = this.addActivity(issue, 'note', author.id, { text });
    await this.send(commentWebhook(this.state, note, issue, author));
    return { id: note.id };
  }

  private appendEvent(issue: IssueRecord): EventRecord {
    const project = this.store.project(issue.projectId);
    const at = this.state.now();
    const release = releaseAt(this.store.data.releases, project.id, at)?.version ?? null;
    const frames = issue.events[issue.events.length - 1]?.exception.frames ?? [];
    const event = newEvent(this.rng, {
      issue,
      project,
      frames,
      at,
      release,
      environment: this.rng.chance(0.8) ? 'production' : 'staging',
    });
    issue.events.push(event);
    issue.count += 1;
    if (issue.userCount < issue.count && this.rng.chance(0.5)) issue.userCount += 1;
    issue.lastSeen = event.dateCreated;
    issue.lastRelease = release;
    return event;
  }

  async createIssue(opts: CreateIssueOptions = {}): Promise<IssueRecord> {
    const project = opts.project ? this.store.projectBySlug(opts.project) : this.store.data.projects[0];
    if (!project) throw new Error(`Unknown project ${opts.project}`);
    const at = this.state.now();
    const { issue, frames } = draftIssue(this.rng, this.ids, { project, firstSeen: at });
    const release = releaseAt(this.store.data.releases, project.id, at)?.version ?? null;
    const event = newEvent(this.rng, { issue, project, frames, at, release, environment: 'production' });
    Object.assign(issue, { events: [event], count: 1, userCount: 1, firstRelease: release, lastRelease: release });
    this.store.addIssue(issue);
    await this.send(issueWebhook(this.state, 'created', issue, null));
    await this.send(errorWebhook(this.state, event, issue));
    return issue;
  }

  async recordEvent(issueId: string): Promise<EventRecord> {
    const issue = this.store.requireIssue(issueId);
    const event = this.appendEvent(issue);
    if (issue.status === 'resolved') {
      this.regress(issue);
      await this.send(issueWebhook(this.state, 'unresolved', issue, null));
    }
    await this.send(errorWebhook(this.state, event, issue));
    return event;
  }

  async triggerIssueAlert(issueId: string, ruleTitle = 'High priority issues'): Promise<void> {
    const issue = this.store.requireIssue(issueId);
    const event = issue.events[issue.events.length - 1];
    await this.send(eventAlertWebhook(this.state, event, issue, ruleTitle));
  }

  async createInstallation(): Promise<{ uuid: string; code: string }> {
    const installation: Installation = { uuid: this.rng.uuid(), status: 'pending' };
    this.state.installations.set(installation.uuid, installation);
    const grant = this.state.tokens.createGrant({ installationUuid: installation.uuid, userId: this.store.owner.id });
    await this.send(installationWebhook(this.state, installation.uuid, grant.code, this.store.owner));
    return { uuid: installation.uuid, code: grant.code };
  }

  expireTokens(): void {
    this.state.tokens.expireAll();
  }

  hold(): () => void {
    let release!: () => void;
    this.state.hold = new Promise((resolve) => (release = resolve));
    return () => {
      this.state.hold = null;
      release();
    };
  }
}
