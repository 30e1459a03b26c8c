import type { ObservationRecord, ObservationType } from '../../memory/records.js';
import { minuteOf } from './values.js';

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
