import { useApi, withQuery } from '../api';
import type { SearchAnswer } from '../api-types';
import { num, Time } from '../format';
import { issuePath, Link, navigate } from '../router';
import { Await, Empty } from '../ui';

/** The agent's search filters, as form fields and as the page's query string (a result page is a link). */
const FILTERS = ['q', 'project', 'environment', 'release', 'level', 'status', 'sort', 'since'] as const;
const LEVELS = ['fatal', 'error', 'warning', 'info', 'debug'];
const STATUSES = ['unresolved', 'resolved', 'ignored'];
const SORTS = ['events', 'users', 'recent'];

export function SearchPage(props: { search: URLSearchParams }) {
  const value = (name: (typeof FILTERS)[number]) => props.search.get(name) ?? '';
  const query = Object.fromEntries(FILTERS.map((name) => [name, value(name)]));
  const results = useApi<SearchAnswer>(query.q ? withQuery('/api/v1/search', { ...query, limit: 25 }) : null);
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    navigate(withQuery('/search', Object.fromEntries(FILTERS.map((name) => [name, String(form.get(name) ?? '')]))));
  };
  // Keyed by the URL so the fields show what was searched after back and forward.
  const key = props.search.toString();
  return (
    <>
      <h1>Search</h1>
      <form class="search-form" onSubmit={submit} key={key} role="search">
        <div class="field field-wide">
          <label for="q">Words</label>
          <input id="q" name="q" type="search" required value={value('q')} placeholder="TypeError checkout total" />
        </div>
        <div class="field">
          <label for="project">Project</label>
          <input id="project" name="project" value={value('project')} />
        </div>
        <div class="field">
          <label for="environment">Environment</label>
          <input id="environment" name="environment" value={value('environment')} />
        </div>
        <div class="field">
          <label for="release">Release</label>
          <input id="release" name="release" value={value('release')} />
        </div>
        <Choice name="level" label="Level" options={LEVELS} value={value('level')} />
        <Choice name="status" label="Status" options={STATUSES} value={value('status')} />
        <Choice name="sort" label="Sort" options={SORTS} value={value('sort')} unset="relevance" />
        <div class="field">
          <label for="since">Active since</label>
          <input id="since" name="since" value={value('since')} placeholder="7d or 2026-11-01" />
        </div>
        <button type="submit">Search</button>
      </form>
      {query.q ? (
        <Await loaded={results} what="the results">
          {(answer) => <Results answer={answer} />}
        </Await>
      ) : (
        <Empty>Search issues, comments, Seer analyses and alerts by words; narrow with the filters.</Empty>
      )}
    </>
  );
}

/** A filter's choices; the empty one (`unset`) leaves it to the search. */
function Choice(props: { name: string; label: string; options: string[]; value: string; unset?: string }) {
  return (
    <div class="field">
      <label for={props.name}>{props.label}</label>
      <select id={props.name} name={props.name} value={props.value}>
        <option value="">{props.unset ?? 'any'}</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function Results(props: { answer: SearchAnswer }) {
  const { answer } = props;
  if (!answer.hits.length) return <Empty>No matches. Try fewer or other words, or drop filters.</Empty>;
  return (
    <>
      {answer.match === 'any-word' && <p class="notice">No record has every word; these have some of them.</p>}
      <ol class="results" data-testid="results">
        {answer.hits.map((hit) => (
          <li key={`${hit.kind}-${hit.id}`} data-issue={hit.issueId ?? ''}>
            <span class="badge">{hit.kind}</span>{' '}
            {hit.issueId ? <Link href={issuePath(hit.shortId ?? hit.issueId)}>{hit.title}</Link> : hit.title}
            <p class="muted">
              {[hit.shortId, hit.project, hit.status, hit.level].filter(Boolean).join(' · ')}
              {hit.count !== null && ` · ${num(hit.count)} events`}
              {hit.userCount !== null && ` · ${num(hit.userCount)} users`}
              {hit.lastSeen && (
                <>
                  {' '}
                  · last seen <Time iso={hit.lastSeen} />
                </>
              )}
            </p>
          </li>
        ))}
      </ol>
      {answer.nextCursor && <p class="muted">More results exist: add words or filters to narrow them.</p>}
    </>
  );
}
