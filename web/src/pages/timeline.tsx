import { useMemo } from 'preact/hooks';
import { useApi, withQuery } from '../api';
import type { EventsChart, TimelineAnswer } from '../api-types';
import { TimeChart, type ChartMarker } from '../chart';
import { num, Time } from '../format';
import { issuePath, Link, releasePath } from '../router';
import { Await, Empty, Section } from '../ui';

const WINDOWS = [
  { id: '24h', label: '24 hours' },
  { id: '7d', label: '7 days' },
  { id: '30d', label: '30 days' },
] as const;

export function TimelinePage(props: { search: URLSearchParams }) {
  const windowId = WINDOWS.find((w) => w.id === props.search.get('window'))?.id ?? '7d';
  const project = props.search.get('project') ?? undefined;
  const chart = useApi<EventsChart>(withQuery('/api/v1/charts/events', { since: windowId, interval: 'hour', project }));
  const feed = useApi<TimelineAnswer>(withQuery('/api/v1/timeline', { since: windowId, project, limit: 100 }));
  const here = (w: string) => withQuery('/timeline', { window: w, project });
  return (
    <>
      <div class="page-head">
        <h1>Timeline{project ? ` · ${project}` : ''}</h1>
        <nav class="segmented" aria-label="Window">
          {WINDOWS.map((w) => (
            <Link key={w.id} href={here(w.id)} aria-current={w.id === windowId ? 'page' : undefined}>
              {w.label}
            </Link>
          ))}
        </nav>
      </div>
      {project && (
        <p>
          Only project <strong>{project}</strong>.{' '}
          <Link href={withQuery('/timeline', { window: windowId })}>All projects</Link>
        </p>
      )}
      <Await loaded={chart} what="the events chart">
        {(c) => <EventsPerHour chart={c} />}
      </Await>
      <Section title="What happened" id="feed">
        <Await loaded={feed} what="the timeline">
          {(t) => <Feed timeline={t} />}
        </Await>
      </Section>
    </>
  );
}

function EventsPerHour(props: { chart: EventsChart }) {
  const { chart } = props;
  const { series, markers } = useMemo(() => {
    const markers: ChartMarker[] = [
      ...chart.deploys.map((d) => ({
        at: Date.parse(d.at) / 1000,
        kind: 'deploy' as const,
        label: `Deploy of ${d.release} to ${d.environment}`,
        href: releasePath(d.release),
      })),
      ...chart.annotations.map((a) => ({
        at: Date.parse(a.at) / 1000,
        kind: a.kind,
        label: `${a.kind}: ${a.shortId ?? a.issueId}${a.title ? ` ${a.title}` : ''}`,
        href: issuePath(a.shortId ?? a.issueId),
      })),
    ];
    return { series: chart.series.map((s) => ({ label: s.project, values: s.counts })), markers };
  }, [chart]);
  const total = chart.series.reduce((sum, s) => sum + s.total, 0);
  return (
    <section class="card">
      <TimeChart
        title={`Events per hour by project (${num(total)} events)`}
        buckets={chart.buckets}
        series={series}
        markers={markers}
        height={320}
      />
      <p class="legend-note muted">
        <span class="key key-deploy">▼ deploy</span> <span class="key key-new">● new</span>{' '}
        <span class="key key-regressed">● regressed</span> <span class="key key-resolved">● resolved</span>
        {(chart.deploysOmitted > 0 || chart.annotationsOmitted > 0) &&
          ` · the oldest ${num(chart.deploysOmitted)} deploys and ${num(chart.annotationsOmitted)} changes are not marked: narrow the window`}
      </p>
      {!chart.series.length && (
        <Empty>No events in this window. Pick a longer window, or check the overview's sync.</Empty>
      )}
      {chart.deploys.length > 0 && (
        <details>
          <summary>Deploys in this window ({chart.deploys.length})</summary>
          <ul class="plain">
            {[...chart.deploys].reverse().map((d) => (
              <li key={`${d.release}-${d.environment}-${d.at}`}>
                <Time iso={d.at} /> <Link href={releasePath(d.release)}>{d.release}</Link> → {d.environment}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

function Feed(props: { timeline: TimelineAnswer }) {
  const { timeline } = props;
  if (!timeline.items.length) return <Empty>Nothing happened in this window. Pick a longer one.</Empty>;
  return (
    <>
      <p class="muted">
        {Object.entries(timeline.counts)
          .map(([kind, n]) => `${num(n)} ${kind}`)
          .join(' · ')}
        {timeline.countsCapped && ' (some totals are lower bounds)'}
      </p>
      <ol class="feed">
        {timeline.items.map((item) => (
          <li key={item.id}>
            <Time iso={item.occurredAt} /> <span class={`badge badge-${item.kind}`}>{item.kind}</span>{' '}
            {item.issueId ? <Link href={issuePath(item.shortId ?? item.issueId)}>{item.summary}</Link> : item.summary}
            {item.release && (
              <>
                {' '}
                · <Link href={releasePath(item.release)}>{item.release}</Link>
              </>
            )}
            {item.project && <span class="muted"> · {item.project}</span>}
            {item.environment && <span class="muted"> · {item.environment}</span>}
          </li>
        ))}
      </ol>
      {timeline.nextCursor && <p class="muted">Older items exist: narrow the window or pick a project to see them.</p>}
    </>
  );
}
