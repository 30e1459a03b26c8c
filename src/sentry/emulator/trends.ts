import { newEvent } from './events.js';
import type { DeployRecord, EmulatorData, IssueRecord, ReleaseRecord } from './model.js';
import { Prng } from './prng.js';
import { releaseAt } from './seed.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What one seeded trend scenario does around its deploy, events per hour. */
export type TrendScenario = 'worse after deploy' | 'gone after deploy' | 'better after deploy' | 'quiet' | 'rising';

export interface TrendScenarioIssue {
  scenario: TrendScenario;
  issueId: string;
  /** The deploy the scenario turns at (none for `quiet` and `rising`). */
  deploy: { release: string; environment: string; finishedAt: string } | null;
}

/**
 * Re-times the events of five quiet issues of the busiest project, from their own random stream (the
 * rest of the seed, and the number of issues, are unchanged): one its last production deploy made
 * worse, one it fixed, one it made better, one that went quiet six days ago, one rising since eight
 * hours ago. The issues are named in `data.trendScenarios`.
 */
export function shapeEventTrends(seed: number, data: EmulatorData, epoch: number): void {
  const rng = new Prng(seed).fork('trends');
  const project = data.projects[0];
  if (!project) return;
  const turn = lastDeployBefore(data.releases, project.id, epoch - 30 * HOUR);
  // Issues older than every span below, so their first event stays their first.
  const earliest = Math.min(epoch - 13 * DAY, turn ? Date.parse(turn.deploy.dateFinished) - 49 * HOUR : epoch);
  const candidates = data.issues.filter(
    (i) => i.projectId === project.id && i.events.length <= 3 && Date.parse(i.firstSeen) < earliest,
  );
  const pick = () => candidates.splice(rng.int(0, candidates.length - 1), 1)[0] as IssueRecord | undefined;
  const scenarios: TrendScenarioIssue[] = [];
  const shape = (scenario: TrendScenario, spans: [from: number, to: number, perHour: number][]) => {
    const issue = pick();
    if (!issue) return;
    const first = issue.events[0];
    const times = spans.flatMap(([from, to, perHour]) => {
      const n = Math.round(((to - from) / HOUR) * perHour);
      return Array.from({ length: n }, (_, k) => Math.floor(from + ((to - from) * (k + rng.next())) / n));
    });
    issue.events = [
      first,
      ...times
        .sort((a, b) => a - b)
        .map((at) =>
          newEvent(rng, {
            issue,
            project,
            frames: first.exception.frames,
            at,
            release: releaseAt(data.releases, project.id, at)?.version ?? null,
            environment: 'production',
          }),
        ),
    ];
    const last = issue.events[issue.events.length - 1];
    issue.count = issue.events.length;
    issue.userCount = new Set(issue.events.map((e) => e.user.id)).size;
    issue.lastSeen = last.dateCreated;
    issue.lastRelease = last.release;
    // Its old status changes no longer fit its events: it is simply unresolved.
    issue.activity = issue.activity.filter((a) => !a.type.startsWith('set_'));
    [issue.status, issue.substatus] = ['unresolved', 'ongoing'];
    scenarios.push({
      scenario,
      issueId: issue.id,
      deploy:
        turn && scenario.endsWith('after deploy')
          ? {
              release: turn.release.version,
              environment: turn.deploy.environment,
              finishedAt: turn.deploy.dateFinished,
            }
          : null,
    });
  };
  if (turn) {
    const at = Date.parse(turn.deploy.dateFinished);
    const before = at - 48 * HOUR;
    shape('worse after deploy', [
      [before, at, 0.5],
      [at, epoch, 4],
    ]);
    shape('gone after deploy', [[before, at, 3]]);
    shape('better after deploy', [
      [before, at, 4],
      [at, epoch, 0.5],
    ]);
  }
  shape('quiet', [[epoch - 12 * DAY, epoch - 6 * DAY, 0.5]]);
  shape('rising', [
    [epoch - 72 * HOUR, epoch - 8 * HOUR, 0.5],
    [epoch - 8 * HOUR, epoch, 6],
  ]);
  data.trendScenarios = scenarios;
}

function lastDeployBefore(
  releases: readonly ReleaseRecord[],
  projectId: string,
  until: number,
): { release: ReleaseRecord; deploy: DeployRecord & { dateFinished: string } } | null {
  let found: { release: ReleaseRecord; deploy: DeployRecord & { dateFinished: string } } | null = null;
  for (const release of releases)
    for (const deploy of release.deploys)
      if (
        release.projectId === projectId &&
        deploy.environment === 'production' &&
        deploy.dateFinished &&
        Date.parse(deploy.dateFinished) <= until &&
        (!found || deploy.dateFinished > found.deploy.dateFinished)
      )
        found = { release, deploy: deploy as DeployRecord & { dateFinished: string } };
  return found;
}
