import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, useApi, withQuery } from '../api';
import type { InboxPage, InboxState, Overview, Status } from '../api-types';
import { TimeChart } from '../chart';
import { num, Time } from '../format';
import { Link } from '../router';
import { Await, Empty, Section } from '../ui';

/** How often the overview reads itself again: a running sync and the inbox move while one looks. */
const REFRESH_MS = 10_000;
const STATES: InboxState[] = ['pending', 'processed', 'skipped', 'dead', 'held'];

export function OverviewPage() {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setVersion((v) => v + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const overview = useApi<Overview>('/api/v1/overview', version);
  const status = useApi<Status>('/api/v1/status', version);
  const dead = useApi<InboxPage>(withQuery('/api/v1/inbox', { state: 'dead', limit: 50 }), version);
  const refresh = () => setVersion((v) => v + 1);
  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </div>
      <Await loaded={overview} what="the overview">
        {(o) => (
          <>
            <Connections overview={o} />
            <Inbox overview={o} />
          </>
        )}
      </Await>
      <Section title="Dead-lettered deliveries" id="dead-letters">
        <Await loaded={dead} what="the dead-lettered deliveries">
          {(page) => <DeadLetters page={page} onRetried={refresh} />}
        </Await>
      </Section>
      <Await loaded={overview} what="the deliveries chart">
        {(o) => <DeliveriesChart overview={o} />}
      </Await>
      <Section title="Projects" id="projects">
        <Await loaded={status} what="the projects">
          {(s) => <Projects status={s} />}
        </Await>
      </Section>
    </>
  );
}

function Connections(props: { overview: Overview }) {
  const { connections, freshness, now } = props.overview;
  const at = Date.parse(now);
  if (!connections.length)
    return (
      <Section title="Connections" id="connections">
        <div class="empty">
          <p>
            <strong>No Sentry organization is connected yet.</strong> Connect one from the machine that runs this
            server, then its first sync fills this page:
          </p>
          <pre>
            <code>
              SENTRY_AUTH_TOKEN=&lt;token&gt; sentry-memory connect --url https://sentry.io --org &lt;org-slug&gt;
            </code>
          </pre>
          <p>The README's “Connecting Sentry” explains tokens, public integrations and OAuth.</p>
        </div>
      </Section>
    );
  return (
    <Section title="Connections" id="connections">
      <p class={freshness.stale ? 'notice notice-warn' : 'muted'}>
        {freshness.stale ? 'The memory may be behind Sentry. ' : 'Fresh. '}
        Last update <Time iso={freshness.lastUpdateAt} relativeTo={at} />, last webhook{' '}
        <Time iso={freshness.lastWebhookAt} relativeTo={at} />.
      </p>
      {connections.map((c) => (
        <div class="connection" key={c.id} data-connection={c.id}>
          <h3>
            {c.source} · {c.organization ?? '(organization not known yet)'}{' '}
            <span class={`badge badge-${c.state}`}>{c.state}</span>{' '}
            {c.sync && <span class={`badge badge-${c.sync.state}`}>sync {c.sync.state}</span>}
          </h3>
          {c.sync && (
            <p class="muted">
              Last sync started <Time iso={c.sync.startedAt} />
              {c.sync.finishedAt && (
                <>
                  , finished <Time iso={c.sync.finishedAt} />
                </>
              )}
              .
            </p>
          )}
          {!c.streams.length && (
            <Empty>
              No sync has run yet: <code>sentry-memory sync</code> (or <code>serve</code>, which syncs on a schedule)
              reads the organization.
            </Empty>
          )}
          <div class="table-scroll" hidden={!c.streams.length}>
            <table>
              <caption class="visually-hidden">Streams of {c.organization ?? c.id}</caption>
              <thead>
                <tr>
                  <th scope="col">Stream</th>
                  <th scope="col">State</th>
                  <th scope="col">Last full pass</th>
                  <th scope="col">Progress</th>
                </tr>
              </thead>
              <tbody>
                {c.streams.map((s) => (
                  <tr key={s.stream}>
                    <th scope="row">{s.stream}</th>
                    <td>
                      <span class={`badge badge-${s.state}`}>{s.state}</span>
                    </td>
                    <td>
                      <Time iso={s.lastCompletedAt} relativeTo={at} />
                    </td>
                    <td>
                      {s.progress ? (
                        s.progress.window ? (
                          <>
                            window <Time iso={s.progress.window.start} /> → <Time iso={s.progress.window.end} />
                          </>
                        ) : (
                          'part way through its pages'
                        )
                      ) : (
                        <span class="muted">–</span>
                      )}
                      {s.progress && (
                        <span class="muted">
                          {' '}
                          (updated <Time iso={s.updatedAt} relativeTo={at} />)
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </Section>
  );
}

function Inbox(props: { overview: Overview }) {
  const { inbox, processing } = props.overview;
  return (
    <Section title="Webhook inbox" id="inbox">
      <dl class="stats" data-testid="inbox-counts">
        {STATES.map((state) => (
          <div key={state} data-state={state}>
            <dt>{state}</dt>
            <dd>{num(inbox.counts[state])}</dd>
          </div>
        ))}
        <div data-rate="5m">
          <dt>processed / min (5 min)</dt>
          <dd>{processing.last5m.perMinute.toFixed(1)}</dd>
        </div>
        <div data-rate="15m">
          <dt>processed / min (15 min)</dt>
          <dd>{processing.last15m.perMinute.toFixed(1)}</dd>
        </div>
      </dl>
      <p class="muted">
        Last delivery received <Time iso={inbox.lastReceivedAt} />.
      </p>
    </Section>
  );
}

function DeadLetters(props: { page: InboxPage; onRetried: () => void }) {
  const [said, setSaid] = useState<{ text: string; error: boolean } | null>(null);
  const retry = async (seq: number) => {
    try {
      const answer = await api.post<{ seq: number; state: string }>(`/api/v1/inbox/${seq}/retry`);
      setSaid({ text: `Delivery #${answer.seq} is ${answer.state} again: a worker applies it next.`, error: false });
    } catch (error) {
      setSaid({ text: error instanceof ApiError ? error.message : String(error), error: true });
    }
    props.onRetried();
  };
  return (
    <>
      {said && (
        <p class={said.error ? 'notice notice-error' : 'notice'} role="status">
          {said.text}
        </p>
      )}
      {!props.page.items.length ? (
        <Empty>No dead-lettered deliveries: every webhook received was applied or skipped on purpose.</Empty>
      ) : (
        <div class="table-scroll">
          <table data-testid="dead-letters">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Delivery</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
                <th scope="col">Received</th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.page.items.map((d) => (
                <tr key={d.seq} data-seq={d.seq}>
                  <td>{d.seq}</td>
                  <td>
                    {d.resource}
                    {d.action ? `.${d.action}` : ''}
                  </td>
                  <td>{d.attempts}</td>
                  <td class="error-text">{d.lastError ?? '–'}</td>
                  <td>
                    <Time iso={d.receivedAt} />
                  </td>
                  <td>
                    <button type="button" onClick={() => void retry(d.seq)}>
                      Retry #{d.seq}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** The sparse per-minute buckets laid on every minute of the window, so quiet minutes read as zero. */
function DeliveriesChart(props: { overview: Overview }) {
  const { deliveriesPerMinute: d } = props.overview;
  const chart = useMemo(() => {
    const start = Date.parse(d.since);
    const minutes = Math.max(1, Math.ceil((Date.parse(d.until) - start) / 60_000));
    const buckets: string[] = [];
    const received = new Array<number>(minutes).fill(0);
    const processed = new Array<number>(minutes).fill(0);
    for (let i = 0; i < minutes; i++) buckets.push(new Date(start + i * 60_000).toISOString());
    for (const b of d.buckets) {
      const i = Math.floor((Date.parse(b.at) - start) / 60_000);
      if (i < 0 || i >= minutes) continue;
      received[i] += b.received;
      processed[i] += b.processed;
    }
    return {
      buckets,
      quiet: !received.some(Boolean) && !processed.some(Boolean),
      series: [
        { label: 'received', values: received },
        { label: 'processed', values: processed },
      ],
    };
  }, [d]);
  return (
    <section class="card">
      <TimeChart title="Deliveries per minute, last 24 hours" buckets={chart.buckets} series={chart.series} />
      {chart.quiet && <Empty>No webhook deliveries in the last 24 hours.</Empty>}
    </section>
  );
}

function Projects(props: { status: Status }) {
  const { projects } = props.status;
  if (!projects.length) return <Empty>No projects in memory yet: they arrive with the first sync.</Empty>;
  return (
    <div class="table-scroll">
      <table data-testid="projects">
        <thead>
          <tr>
            <th scope="col">Project</th>
            <th scope="col">Issues</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {projects.map((p) => (
            <tr key={p.slug ?? '?'} data-project={p.slug ?? ''}>
              <th scope="row">
                {p.slug ? (
                  <Link href={withQuery('/timeline', { project: p.slug })}>{p.slug}</Link>
                ) : (
                  '(unknown project)'
                )}
              </th>
              <td>{num(p.issues)}</td>
              <td>
                <Time iso={p.lastSeen} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
