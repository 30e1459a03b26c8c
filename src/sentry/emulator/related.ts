import { newEvent } from './events.js';
import type { FrameRecord, IssueRecord, IssueStatus, ProjectRecord, ReleaseRecord, UserRecord } from './model.js';
import type { Prng } from './prng.js';
import { draftIssue, releaseAt, type IdSequences } from './seed.js';

/**
 * Issues that are the same problem seen again, and look-alikes that are not (seed option `related`),
 * for "have we seen this before?". All in the first two projects, which share library code:
 *
 * - `coupon`: the same TypeError and culprit (and top frame) in both projects; the older one was
 *   resolved in a commit, with a comment saying how.
 * - `money`: the same top in-app frame with a different error type and message each time.
 * - `cart`: an issue resolved in a release (with a comment), and a new issue with its custom
 *   fingerprint after the code moved (another culprit and frame): re-created after resolution.
 * - `control`: TypeErrors only, each with its own culprit and frames: related to none of the above.
 */
export type RelatedFamily = 'coupon' | 'money' | 'cart' | 'control';

interface Spec {
  family: RelatedFamily;
  project: 0 | 1;
  type: string;
  value: string;
  file: string;
  fn: string;
  /** Days before the epoch it was first seen, and last seen. */
  firstDays: number;
  lastDays: number;
  status: IssueStatus;
  fingerprint?: string[];
  resolution?: { kind: 'release' | 'commit'; comment: string };
}

const SPECS: Spec[] = [
  {
    family: 'coupon',
    project: 0,
    type: 'TypeError',
    value: "Cannot read properties of null (reading 'percentOff')",
    file: 'src/lib/coupons.ts',
    fn: 'applyCoupon',
    firstDays: 60,
    lastDays: 45,
    status: 'resolved',
    resolution: { kind: 'commit', comment: 'Expired coupons come back as null now; applyCoupon skips them.' },
  },
  {
    family: 'coupon',
    project: 1,
    type: 'TypeError',
    value: "Cannot read properties of null (reading 'percentOff')",
    file: 'src/lib/coupons.ts',
    fn: 'applyCoupon',
    firstDays: 3,
    lastDays: 0.5,
    status: 'unresolved',
  },
  {
    family: 'money',
    project: 0,
    type: 'RangeError',
    value: 'Invalid currency code : XBT',
    file: 'src/lib/money.ts',
    fn: 'formatAmount',
    firstDays: 30,
    lastDays: 10,
    status: 'unresolved',
  },
  {
    family: 'money',
    project: 1,
    type: 'TypeError',
    value: 'amount.toFixed is not a function',
    file: 'src/lib/money.ts',
    fn: 'formatAmount',
    firstDays: 8,
    lastDays: 1,
    status: 'unresolved',
  },
  {
    family: 'cart',
    project: 0,
    type: 'TypeError',
    value: "Cannot read properties of undefined (reading 'lines')",
    file: 'src/checkout/cart-totals.ts',
    fn: 'sumCartLines',
    firstDays: 90,
    lastDays: 70,
    status: 'resolved',
    fingerprint: ['checkout', 'empty-cart'],
    resolution: { kind: 'release', comment: 'Guarded the empty cart in sumCartLines; see the release notes.' },
  },
  {
    family: 'cart',
    project: 0,
    type: 'TypeError',
    value: "Cannot read properties of undefined (reading 'items')",
    file: 'src/checkout/basket.ts',
    fn: 'basketTotal',
    firstDays: 2,
    lastDays: 0.2,
    status: 'unresolved',
    fingerprint: ['checkout', 'empty-cart'],
  },
  {
    family: 'control',
    project: 0,
    type: 'TypeError',
    value: "Cannot read properties of undefined (reading 'sku')",
    file: 'src/catalog/sku-lookup.ts',
    fn: 'lookupSku',
    firstDays: 20,
    lastDays: 5,
    status: 'resolved',
  },
  {
    family: 'control',
    project: 1,
    type: 'TypeError',
    value: 'window.analytics is undefined',
    file: 'src/telemetry/page-view.ts',
    fn: 'trackPageView',
    firstDays: 12,
    lastDays: 2,
    status: 'unresolved',
  },
];

/** The family an issue of the option belongs to (by its crashing function), null for any other issue. */
export function relatedFamily(issue: Pick<IssueRecord, 'metadata'>): RelatedFamily | null {
  return SPECS.find((s) => s.fn === issue.metadata.function && s.file === issue.metadata.filename)?.family ?? null;
}

const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function frame(project: ProjectRecord, file: string, fn: string, lineNo: number): FrameRecord {
  return {
    filename: file,
    absPath: project.runtime === 'browser' ? `app:///${file}` : `/app/${file}`,
    module: null,
    function: fn,
    lineNo,
    colNo: 12,
    inApp: true,
    contextLine: null,
  };
}

/** The option's issues, drawn from `rng` (a fork of its own, so the other issues stay as they are). */
export function seedRelatedIssues(
  rng: Prng,
  ids: IdSequences,
  ctx: { projects: ProjectRecord[]; releases: ReleaseRecord[]; users: UserRecord[]; epoch: number },
): IssueRecord[] {
  const projects = [ctx.projects[0], ctx.projects[1] ?? ctx.projects[0]];
  // Oldest first: issue ids grow with firstSeen.
  const specs = [...SPECS].sort((a, b) => b.firstDays - a.firstDays);
  return specs.map((spec, n) => {
    const project = projects[spec.project];
    const firstSeen = ctx.epoch - spec.firstDays * DAY;
    const lastSeen = ctx.epoch - spec.lastDays * DAY;
    const { issue } = draftIssue(rng, ids, {
      project,
      firstSeen,
      template: { type: spec.type, value: spec.value, handled: false, level: 'error' },
    });
    // The caller (the outermost frame) differs per issue: only the innermost in-app frame is shared.
    const frames = [
      frame(project, `src/routes/related-${n}.ts`, `handle${n}`, 10 + n),
      frame(project, spec.file, spec.fn, 40 + n),
    ];
    issue.culprit = `${spec.fn}(${spec.file.replace(/\.ts$/, '')})`;
    issue.metadata = { type: spec.type, value: spec.value, filename: spec.file, function: spec.fn };
    issue.lastSeen = iso(lastSeen);
    issue.firstRelease = releaseAt(ctx.releases, project.id, firstSeen)?.version ?? null;
    issue.lastRelease = releaseAt(ctx.releases, project.id, lastSeen)?.version ?? null;
    issue.count = 3;
    issue.userCount = 2;
    issue.status = spec.status;
    issue.substatus = spec.status === 'resolved' ? null : spec.firstDays < 7 ? 'new' : 'ongoing';
    if (spec.fingerprint) issue.fingerprint = spec.fingerprint;
    issue.events = [firstSeen, (firstSeen + lastSeen) / 2, lastSeen].map((at) =>
      newEvent(rng, {
        issue,
        project,
        frames,
        at,
        release: releaseAt(ctx.releases, project.id, at)?.version ?? null,
        environment: 'production',
      }),
    );
    const activity = (type: string, at: number, userId: string | null, data: Record<string, unknown> = {}) =>
      issue.activity.push({ id: ids.nextActivityId(), issueId: issue.id, type, userId, data, dateCreated: iso(at) });
    if (spec.resolution) {
      const user = ctx.users[n % ctx.users.length];
      const resolvedAt = lastSeen + DAY;
      const release = releaseAt(ctx.releases, project.id, resolvedAt + 14 * DAY);
      if (spec.resolution.kind === 'release')
        activity('set_resolved_in_release', resolvedAt, user.id, { version: release?.version ?? null });
      else {
        const commit = release?.commits[0];
        activity('set_resolved_in_commit', resolvedAt, user.id, {
          commit: commit ? { id: commit.id, repository: { name: commit.repository } } : null,
        });
      }
      activity('note', resolvedAt + 3_600_000, user.id, { text: spec.resolution.comment });
    }
    return issue;
  });
}
