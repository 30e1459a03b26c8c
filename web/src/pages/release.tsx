import { useApi, withQuery } from '../api';
import type { ImpactedIssue, ReleaseContext, Transition } from '../api-types';
import { num, Time } from '../format';
import { issuePath, Link, releasePath } from '../router';
import { Await, Empty, Section } from '../ui';

const EFFECTS = [
  ['appeared', 'Appeared'],
  ['worse', 'Got worse'],
  ['better', 'Got better'],
  ['gone', 'Went quiet'],
] as const;

export function ReleasePage(props: { version: string }) {
  const release = useApi<ReleaseContext>(
    withQuery(`/api/v1/releases/${encodeURIComponent(props.version)}`, { maxTokens: 20_000 }),
  );
  return (
    <Await loaded={release} what={`release ${props.version}`} title={props.version}>
      {(r) => <Release release={r} />}
    </Await>
  );
}

function Release(props: { release: ReleaseContext }) {
  const { release: r } = props;
  return (
    <>
      <div class="page-head">
        <div>
          <p class="muted">Release · {r.projects.join(', ') || 'no project'}</p>
          <h1>{r.version}</h1>
          <p>
            Created <Time iso={r.createdAt} />
            {r.releasedAt && (
              <>
                , released <Time iso={r.releasedAt} />
              </>
            )}
            {r.commitCount !== null && ` · ${num(r.commitCount)} commits`}
            {r.nextRelease && (
              <>
                {' '}
                · next: <Link href={releasePath(r.nextRelease.version)}>{r.nextRelease.version}</Link>
              </>
            )}
          </p>
        </div>
      </div>
      <Section title="Deploys" id="deploys">
        {!r.deploys.length && <Empty>This release was never deployed (or its deploys are not in memory yet).</Empty>}
        {r.deploys.map((d) => (
          <article class="deploy" key={d.id} data-deploy={d.id}>
            <h3>
              {d.environment} · <Time iso={d.finishedAt ?? d.startedAt} />
              {d.url && (
                <>
                  {' '}
                  ·{' '}
                  <a href={d.url} rel="noopener noreferrer" target="_blank">
                    deploy page
                  </a>
                </>
              )}
            </h3>
            {d.effects ? (
              <div class="effects">
                {EFFECTS.map(([key, label]) => (
                  <Effect key={key} label={label} kind={key} issues={d.effects![key]} />
                ))}
              </div>
            ) : (
              <Empty>Too recent to compare the 24 h before and after it.</Empty>
            )}
          </article>
        ))}
      </Section>
      <Section title={`New issues (${num(r.newIssues.total)})`} id="new-issues">
        {!r.newIssues.top.length ? (
          <Empty>No issue was first seen in this release.</Empty>
        ) : (
          <ul class="plain" data-testid="new-issues">
            {r.newIssues.top.map((i) => (
              <li key={i.id}>
                <Link href={issuePath(i.shortId ?? i.id)}>{i.shortId ?? i.id}</Link> {i.title}{' '}
                <span class="muted">
                  · {num(i.count)} events · {num(i.userCount)} users · {i.status}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Transitions title="Regressions after its deploys" id="regressions" items={r.regressions} />
      <Transitions title="Resolved in it" id="resolved" items={r.resolved} />
      <Section title="Commits" id="commits">
        {!r.commits.length ? (
          <Empty>No commits are associated with this release.</Empty>
        ) : (
          <ul class="plain">
            {r.commits.map((c) => (
              <li key={c.id}>
                <span class="mono">{c.id.slice(0, 10)}</span> {c.message?.split('\n')[0] ?? ''}{' '}
                <span class="muted">
                  by {c.author ?? 'unknown'}
                  {c.files.length > 0 && ` · ${c.files.length} files`}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}

function Effect(props: { label: string; kind: string; issues: ImpactedIssue[] }) {
  return (
    <div class={`effect effect-${props.kind}`} data-effect={props.kind}>
      <h4>
        {props.label} ({props.issues.length})
      </h4>
      {!props.issues.length ? (
        <p class="muted">none</p>
      ) : (
        <ul class="plain">
          {props.issues.map((i) => (
            <li key={i.id}>
              <Link href={issuePath(i.shortId ?? i.id)}>{i.shortId ?? i.id}</Link> {i.title}{' '}
              <span class="muted">
                {i.perHourBefore.toFixed(2)}/h → {i.perHourAfter.toFixed(2)}/h
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Transitions(props: { title: string; id: string; items: Transition[] }) {
  return (
    <Section title={props.title} id={props.id}>
      {!props.items.length ? (
        <Empty>None.</Empty>
      ) : (
        <ul class="plain">
          {props.items.map((t, i) => (
            <li key={i}>
              <Time iso={t.occurredAt} />{' '}
              {t.issueId ? <Link href={issuePath(t.shortId ?? t.issueId)}>{t.summary}</Link> : t.summary}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
