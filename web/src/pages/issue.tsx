import { useMemo } from 'preact/hooks';
import { useApi, withQuery } from '../api';
import type { IssueContext, IssueTags, IssueTrend, RelatedIssue, RelatedIssues } from '../api-types';
import { TimeChart, type ChartMarker } from '../chart';
import { num, Time } from '../format';
import { issuePath, Link, releasePath } from '../router';
import { Await, Empty, Section } from '../ui';

/** The whole context: a person reads it all, unlike an agent with its token budget. */
const ALL = 20_000;

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

const REASONS: Record<RelatedIssue['reasons'][number], string> = {
  fingerprint: 'same fingerprint',
  type_culprit: 'same error type and culprit',
  frame: 'same top in-app frame',
  seer_file: 'Seer cites the same file',
};

export function IssuePage(props: { id: string }) {
  const base = `/api/v1/issues/${encodeURIComponent(props.id)}`;
  const issue = useApi<IssueContext>(withQuery(base, { maxTokens: ALL }));
  const tags = useApi<IssueTags>(withQuery(`${base}/tags`, { limit: 10, maxTokens: ALL }));
  const related = useApi<RelatedIssues>(withQuery(`${base}/related`, { maxTokens: ALL }));
  const trend = useApi<IssueTrend>(withQuery(`${base}/trend`, { interval: 'hour' }));
  return (
    <Await loaded={issue} what={`issue ${props.id}`} title={props.id}>
      {(i) => (
        <>
          <Head issue={i} />
          <Impact issue={i} />
          <Section title="Trend" id="trend">
            <Await loaded={trend} what="the trend">
              {(t) => <Trend trend={t} />}
            </Await>
            <Deploys issue={i} />
          </Section>
          <Section title="Tags" id="tags">
            <Await loaded={tags} what="the tags">
              {(t) => <Tags tags={t} />}
            </Await>
          </Section>
          <Suspects issue={i} />
          <Section title="Related issues" id="related">
            <Await loaded={related} what="the related issues">
              {(r) => <Related related={r.related} />}
            </Await>
          </Section>
          <History issue={i} />
          <Seer issue={i} />
        </>
      )}
    </Await>
  );
}

function Head(props: { issue: IssueContext }) {
  const { issue } = props;
  return (
    <div class="page-head issue-head">
      <div>
        <p class="muted">
          {issue.project ?? '(unknown project)'} · {issue.shortId ?? issue.id}
        </p>
        <h1>{issue.title ?? issue.shortId ?? issue.id}</h1>
        {issue.culprit && <p class="mono">{issue.culprit}</p>}
        <p>
          <span class={`badge badge-${issue.status ?? 'unknown'}`}>
            {issue.status ?? 'unknown'}
            {issue.substatus ? ` (${issue.substatus.replaceAll('_', ' ')})` : ''}
          </span>{' '}
          {issue.level && <span class={`badge badge-${issue.level}`}>{issue.level}</span>}{' '}
          {issue.priority && <span class="badge">priority {issue.priority}</span>}{' '}
          {issue.assignee && (
            <span>
              assigned to {issue.assignee.name ?? issue.assignee.email ?? issue.assignee.id} ({issue.assignee.type})
            </span>
          )}
        </p>
      </div>
      {issue.permalink && (
        <a class="button" href={issue.permalink} rel="noopener noreferrer" target="_blank">
          Open in Sentry
        </a>
      )}
    </div>
  );
}

function Impact(props: { issue: IssueContext }) {
  const { issue } = props;
  return (
    <Section title="Impact" id="impact">
      <dl class="stats" data-testid="impact">
        <div data-stat="events">
          <dt>events</dt>
          <dd>{num(issue.count)}</dd>
        </div>
        <div data-stat="users">
          <dt>users</dt>
          <dd>{num(issue.userCount)}</dd>
        </div>
        <div data-stat="last24h">
          <dt>last 24 h</dt>
          <dd>{num(issue.trend.last24h)}</dd>
        </div>
        <div data-stat="previous24h">
          <dt>24 h before</dt>
          <dd>{num(issue.trend.previous24h)}</dd>
        </div>
        <div data-stat="direction">
          <dt>trend</dt>
          <dd>{issue.trend.direction}</dd>
        </div>
      </dl>
      <p>{issue.trend.summary}</p>
      <p>
        First seen <Time iso={issue.firstSeen} />
        {issue.firstRelease && (
          <>
            {' '}
            in <Link href={releasePath(issue.firstRelease)}>{issue.firstRelease}</Link>
          </>
        )}
        ; last seen <Time iso={issue.lastSeen} />
        {issue.lastRelease && (
          <>
            {' '}
            in <Link href={releasePath(issue.lastRelease)}>{issue.lastRelease}</Link>
          </>
        )}
        .{issue.environments.length > 0 && ` Environments: ${issue.environments.join(', ')}.`}
      </p>
      {issue.affected.length > 0 && (
        <>
          <h3>Who is affected</h3>
          <ul class="plain">
            {issue.affected.map((a) => (
              <li key={`${a.key}=${a.value}`}>
                <span class="mono">
                  {a.key}={a.value}
                </span>{' '}
                in {percent(a.share)} of its events
                {a.projectShare !== null && ` (${percent(a.projectShare)} across the project)`}
              </li>
            ))}
          </ul>
        </>
      )}
      {issue.topFrames.length > 0 && (
        <>
          <h3>Top in-app frames</h3>
          <ol class="plain mono">
            {issue.topFrames.map((f, i) => (
              <li key={i}>
                {f.function ?? '?'} — {f.filename ?? '?'}
                {f.lineNo !== null && `:${f.lineNo}`}
              </li>
            ))}
          </ol>
        </>
      )}
    </Section>
  );
}

function Trend(props: { trend: IssueTrend }) {
  const { trend } = props;
  const { series, markers } = useMemo(
    () => ({
      series: [{ label: 'events', values: trend.counts }],
      markers: trend.deploys.map((d): ChartMarker => ({
        at: Date.parse(d.finishedAt) / 1000,
        kind: 'deploy',
        label: `Deploy of ${d.release} to ${d.environment}: ${d.verdict}`,
        href: releasePath(d.release),
      })),
    }),
    [trend],
  );
  const total = trend.counts.reduce((a, b) => a + b, 0);
  // Hourly counts may be spread from coarser ones (fractions): people read whole events.
  const events = num(Math.round(total));
  return (
    <>
      <TimeChart
        title={`Events per ${trend.interval} (${events} since ${new Date(trend.since).toLocaleDateString()})`}
        buckets={trend.buckets}
        series={series}
        markers={markers}
      />
      <p class="muted" data-testid="trend-total" data-total={total}>
        About {events} events in {trend.buckets.length} {trend.interval}s; dashed lines are deploys.
      </p>
    </>
  );
}

function Deploys(props: { issue: IssueContext }) {
  const { deploys } = props.issue;
  if (!deploys.length) return <Empty>No recent deploy of its project to compare before and after.</Empty>;
  return (
    <div class="table-scroll">
      <table data-testid="deploy-verdicts">
        <caption>Events per hour in the 24 h before and after each recent deploy</caption>
        <thead>
          <tr>
            <th scope="col">Deploy</th>
            <th scope="col">Finished</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {deploys.map((d) => (
            <tr key={`${d.release}-${d.environment}-${d.finishedAt}`}>
              <th scope="row">
                <Link href={releasePath(d.release)}>{d.release}</Link> → {d.environment}
              </th>
              <td>
                <Time iso={d.finishedAt} />
              </td>
              <td>{d.perHourBefore.toFixed(2)}/h</td>
              <td>{d.perHourAfter.toFixed(2)}/h</td>
              <td>
                <span class={`badge badge-${d.verdict}`}>{d.verdict}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Tags(props: { tags: IssueTags }) {
  const { tags } = props.tags;
  if (!tags.length) return <Empty>No tags stored for this issue yet: a sync reads them, new events add theirs.</Empty>;
  return (
    <div class="tags">
      {tags.map((tag) => (
        <div class="tag" key={tag.key} data-tag={tag.key}>
          <h3>
            {tag.name ?? tag.key} <span class="muted">({num(tag.total)} events)</span>
          </h3>
          <ul class="plain">
            {tag.values.map((v) => (
              <li key={v.value} data-value={v.value} data-count={v.count}>
                <span class="bar" style={{ width: percent(v.share) }} />
                <span class="tag-value">{v.value}</span>
                <span class="tag-count">
                  {num(v.count)} · {percent(v.share)}
                </span>
              </li>
            ))}
            {tag.other > 0 && <li class="muted">{num(tag.other)} other</li>}
          </ul>
        </div>
      ))}
    </div>
  );
}

function Suspects(props: { issue: IssueContext }) {
  const { suspectDeploys, suspectCommits } = props.issue;
  return (
    <Section title="Suspects" id="suspects">
      {!suspectDeploys.length && !suspectCommits.length && (
        <Empty>No suspect deploy or commit: none of its project's deploys came shortly before it appeared.</Empty>
      )}
      {suspectDeploys.length > 0 && (
        <>
          <h3>Deploys shortly before it {suspectDeploys[0].before}</h3>
          <ul class="plain">
            {suspectDeploys.map((d) => (
              <li key={d.id}>
                <Link href={releasePath(d.release)}>{d.release}</Link> → {d.environment}, finished{' '}
                <Time iso={d.finishedAt} /> ({d.hoursBefore.toFixed(1)} h before it {d.before})
              </li>
            ))}
          </ul>
        </>
      )}
      {suspectCommits.length > 0 && (
        <>
          <h3>Commits</h3>
          <ul class="plain">
            {suspectCommits.map((c) => (
              <li key={c.id}>
                <span class="mono">{c.id.slice(0, 10)}</span> {c.message?.split('\n')[0] ?? ''}{' '}
                <span class="muted">
                  by {c.author ?? 'unknown'} in <Link href={releasePath(c.release)}>{c.release}</Link> — {c.reason}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}

function Related(props: { related: RelatedIssue[] }) {
  if (!props.related.length) return <Empty>No issue like this one in memory.</Empty>;
  return (
    <ul class="plain">
      {props.related.map((r) => (
        <li key={r.id}>
          <Link href={issuePath(r.shortId ?? r.id)}>{r.shortId ?? r.id}</Link> {r.title}{' '}
          <span class={`badge badge-${r.status ?? 'unknown'}`}>{r.status ?? 'unknown'}</span>{' '}
          <span class="muted">{r.reasons.map((x) => REASONS[x]).join(', ')}</span>
          {r.resolvedIn && (
            <span class="muted">
              {' '}
              · resolved <Time iso={r.resolvedIn.at} />
              {r.resolvedIn.release && ` in ${r.resolvedIn.release}`}
              {r.resolvedIn.commit && ` by commit ${r.resolvedIn.commit.slice(0, 10)}`}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

function History(props: { issue: IssueContext }) {
  const { statusHistory, comments, alerts } = props.issue;
  return (
    <>
      <Section title="Status history" id="history">
        {!statusHistory.length ? (
          <Empty>No status change recorded.</Empty>
        ) : (
          <ol class="feed">
            {statusHistory.map((h, i) => (
              <li key={i}>
                <Time iso={h.occurredAt} /> <span class="badge">{h.type}</span> {h.summary}
                {h.release && (
                  <>
                    {' '}
                    · <Link href={releasePath(h.release)}>{h.release}</Link>
                  </>
                )}
              </li>
            ))}
          </ol>
        )}
      </Section>
      <Section title="Comments" id="comments">
        {!comments.length ? (
          <Empty>No comments.</Empty>
        ) : (
          <ul class="plain comments">
            {comments.map((c) => (
              <li key={c.id}>
                <p class="muted">
                  {c.author ?? 'someone'}, <Time iso={c.createdAt} />
                </p>
                <p class="comment-text">{c.text}</p>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Alerts" id="alerts">
        {!alerts.length ? (
          <Empty>No alert fired for it.</Empty>
        ) : (
          <ul class="plain">
            {alerts.map((a) => (
              <li key={a.id}>
                <span class="badge">{a.state}</span> {a.title} <span class="muted">({a.source})</span>{' '}
                <Time iso={a.startedAt} />
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}

function Seer(props: { issue: IssueContext }) {
  const { seer } = props.issue;
  return (
    <Section title="Seer" id="seer">
      {!seer.length ? (
        <Empty>Seer has not analysed this issue.</Empty>
      ) : (
        <ul class="plain">
          {seer.map((s, i) => (
            <li key={i}>
              <span class="badge">{s.stage.replaceAll('_', ' ')}</span> {s.state} <Time iso={s.at} />
              {s.summary && <p>{s.summary}</p>}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
