import type { EventRecord, FrameRecord, IssueRecord, ProjectRecord } from './model.js';
import type { Prng } from './prng.js';

export interface NewEventInput {
  issue: Pick<IssueRecord, 'id' | 'level' | 'isUnhandled' | 'metadata'>;
  project: ProjectRecord;
  frames: FrameRecord[];
  at: number;
  release: string | null;
  environment: string;
}

const MECHANISM: Record<ProjectRecord['runtime'], string> = {
  node: 'onunhandledrejection',
  browser: 'onerror',
  python: 'celery',
  go: 'generic',
};

const CLIENT_OS = ['Windows 10', 'Windows 10', 'macOS 14.5', 'iOS 17.5', 'Android 14'];
/** A custom tag, as apps set them (`Sentry.setTag('plan', …)`). */
const PLANS = ['free', 'free', 'team', 'business'];

/** One occurrence of an issue: same stack (that is what grouped it), fresh id, time and user. */
export function newEvent(rng: Prng, input: NewEventInput): EventRecord {
  const { issue, project, release, environment } = input;
  const handled = !issue.isUnhandled;
  const userNumber = rng.int(1, 5000);
  const isHttp = project.runtime !== 'python';
  const requestUrl = isHttp
    ? project.runtime === 'browser'
      ? `https://app.acme.test/${rng.pick(['checkout', 'cart', 'products', 'account', 'orders'])}`
      : `https://${project.slug}.internal.acme.test/api/v1/${rng.pick(['checkout', 'orders', 'reserve', 'search'])}`
    : null;
  const tags: EventRecord['tags'] = [
    { key: 'environment', value: environment },
    { key: 'handled', value: handled ? 'yes' : 'no' },
    { key: 'level', value: issue.level },
    { key: 'mechanism', value: MECHANISM[project.runtime] },
  ];
  if (release) tags.push({ key: 'release', value: release });
  if (project.runtime === 'browser')
    tags.push({ key: 'browser', value: rng.pick(['Chrome 126.0', 'Safari 17.5', 'Firefox 127.0', 'Edge 126.0']) });
  else tags.push({ key: 'server_name', value: `${project.slug}-${rng.hex(5)}` });
  if (requestUrl) tags.push({ key: 'url', value: requestUrl });
  tags.push({ key: 'user', value: `id:${userNumber}` });
  // Derived from the user, not drawn: a user keeps one OS and plan, and the seed's sequence stays put.
  tags.push({ key: 'os', value: project.runtime === 'browser' ? CLIENT_OS[userNumber % CLIENT_OS.length] : 'Linux' });
  tags.push({ key: 'plan', value: PLANS[userNumber % PLANS.length] });
  tags.sort((a, b) => a.key.localeCompare(b.key));

  return {
    eventId: rng.hex(32),
    issueId: issue.id,
    projectId: project.id,
    dateCreated: new Date(input.at).toISOString(),
    release,
    environment,
    level: issue.level,
    exception: {
      type: issue.metadata.type,
      value: issue.metadata.value,
      handled,
      mechanism: MECHANISM[project.runtime],
      frames: input.frames,
    },
    tags,
    user: {
      id: String(userNumber),
      email: rng.chance(0.5) ? `customer${userNumber}@example.com` : null,
      ipAddress: `203.0.113.${rng.int(1, 254)}`,
    },
    requestUrl,
  };
}
