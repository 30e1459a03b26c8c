import type { ObservationRecord, ObservationType } from '../../memory/records.js';
import { minuteOf, obj, str, text } from './values.js';

type ObservationInput = Omit<ObservationRecord, 'kind' | 'release' | 'environment' | 'data'> &
  Partial<Pick<ObservationRecord, 'release' | 'environment' | 'data'>>;

export function observation(input: ObservationInput): ObservationRecord {
  return { kind: 'observation', release: null, environment: null, data: null, ...input };
}

/**
 * A status or assignment change of an issue. Webhooks and the API's activity log both report these,
 * at times a moment apart, so the fact is keyed by issue, kind and minute: seen twice, stored once.
 */
export function issueTransition(
  issueId: string,
  type: ObservationType,
  at: string,
  summary: string,
  extra: Partial<ObservationRecord> = {},
): ObservationRecord {
  return observation({
    id: `${type}:${issueId}:${minuteOf(at)}`,
    type,
    occurredAt: at,
    subject: { type: 'issue', id: issueId },
    issueId,
    projectSlug: null,
    summary,
    ...extra,
  });
}

/**
 * The commit an issue was resolved in, as Sentry names it: `statusDetails.inCommit` of a webhook's
 * issue (a serialized commit, or `{commit, repository}` as set) or `data.commit` of a
 * `set_resolved_in_commit` activity (a serialized commit, or its id).
 */
export function resolvedInCommit(value: unknown): string | null {
  const commit = obj(value);
  if (!commit) return str(value);
  return text(commit.id) ?? text(commit.commit) ?? text(commit.key);
}

/** The observation data of a resolution: the commit it names, if any (the release is the observation's own). */
export function resolutionData(commit: string | null): Record<string, unknown> | null {
  return commit ? { commit } : null;
}
