import type { InsightStage, MemoryRecord, Versioned } from '../../memory/records.js';
import { maxTime } from '../../memory/versions.js';
import type { SentryWebhookEvent } from '../webhooks/payloads.js';
import { mapEvent } from './event.js';
import { issueLabel, issueSeenInEvent, mapIssue } from './issue.js';
import { issueTransition, observation, resolutionData, resolvedInCommit } from './observations.js';
import { arr, isoTime, minuteOf, obj, str, text, truncate, type Json } from './values.js';

/** Turns one parsed webhook into memory records. The API backfill reuses the same object mappers. */
export function mapWebhookEvent(event: SentryWebhookEvent): MemoryRecord[] {
  switch (event.resource) {
    case 'installation':
      return mapInstallation(event);
    case 'issue':
      return mapIssueWebhook(event);
    case 'error':
      return mapErrorWebhook(event);
    case 'event_alert':
      return mapEventAlert(event);
    case 'metric_alert':
      return mapMetricAlert(event);
    case 'comment':
      return mapComment(event);
    case 'seer':
      return mapSeer(event);
  }
}

type Of<R extends SentryWebhookEvent['resource']> = Extract<SentryWebhookEvent, { resource: R }>;

/**
 * A value as of its delivery. `Sentry-Hook-Timestamp` has whole seconds, so values sent within one
 * second are told apart by rank, then by delivery order. The whole second stands for its start, so a
 * finer time within it from the API's activity log wins; a later change shows in the next sync.
 */
function delivered<T>(
  event: SentryWebhookEvent,
  value: T,
  rank: Versioned<T>['rank'] = 'change',
  at = event.sentAt,
): Versioned<T> {
  return { value, at, rank, arrival: event.arrival ?? undefined };
}

function mapInstallation(event: Of<'installation'>): MemoryRecord[] {
  const installation = event.data.installation;
  const state = event.action === 'deleted' ? 'deleted' : installation.status === 'installed' ? 'installed' : 'pending';
  const orgSlug = text(obj(installation.organization)?.slug);
  return [
    {
      kind: 'connection',
      externalId: installation.uuid,
      orgSlug,
      appSlug: text(obj(installation.app)?.slug),
      state: delivered(event, state, state === 'deleted' ? 'final' : 'change'),
    },
    observation({
      id: `connection.${state}:${installation.uuid}:${minuteOf(event.sentAt)}`,
      type: `connection.${state}`,
      occurredAt: event.sentAt,
      subject: { type: 'connection', id: installation.uuid },
      issueId: null,
      projectSlug: null,
      summary: `Sentry installation ${state} for org ${orgSlug ?? 'unknown'}${event.actor?.name ? ` by ${event.actor.name}` : ''}`,
    }),
  ];
}

function mapIssueWebhook(event: Of<'issue'>): MemoryRecord[] {
  const record = mapIssue(event.data.issue, event.sentAt);
  // Every issue webhook carries the whole issue; what `created` says is the first state, which an
  // action sent in the same second (resolved, ignored, assigned...) always overrides.
  const rank = event.action === 'created' ? 'initial' : 'change';
  if (record.status) record.status = delivered(event, record.status.value, rank);
  if (record.assignee) record.assignee = delivered(event, record.assignee.value, rank);
  const label = issueLabel(record);
  const project = record.projectSlug ?? null;
  const by = event.actor?.type === 'user' && event.actor.name ? ` by ${event.actor.name}` : '';
  const records: MemoryRecord[] = [record];
  if (record.projectId)
    records.push({
      kind: 'project',
      id: record.projectId,
      slug: record.projectSlug ?? null,
      name: text(obj(event.data.issue.project)?.name),
      platform: text(obj(event.data.issue.project)?.platform),
    });
  switch (event.action) {
    case 'created':
      records.push(
        observation({
          id: `issue.created:${record.id}`,
          type: 'issue.created',
          occurredAt: record.firstSeen ?? event.sentAt,
          subject: { type: 'issue', id: record.id },
          issueId: record.id,
          projectSlug: project,
          release: record.firstRelease ?? null,
          summary: `New issue ${label}: ${record.title ?? 'untitled'}${project ? ` in ${project}` : ''}`,
          data: { level: record.level ?? null, substatus: record.status?.value.substatus ?? null },
        }),
      );
      break;
    case 'resolved': {
      const details = obj(event.data.issue.statusDetails);
      const inRelease = text(details?.inRelease);
      const inCommit = resolvedInCommit(details?.inCommit);
      records.push(
        issueTransition(
          record.id,
          'issue.resolved',
          event.sentAt,
          `${label} resolved${inRelease ? ` in release ${inRelease}` : ''}${inCommit ? ` in commit ${inCommit.slice(0, 12)}` : ''}${by}`,
          { projectSlug: project, release: inRelease, data: resolutionData(inCommit) },
        ),
      );
      break;
    }
    case 'assigned': {
      const to = record.assignee?.value;
      const type = to ? 'issue.assigned' : 'issue.unassigned';
      const who = to ? `${to.name ?? to.email ?? to.id} (${to.type})` : 'nobody';
      records.push(
        issueTransition(record.id, type, event.sentAt, `${label} assigned to ${who}${by}`, {
          projectSlug: project,
          data: to ? { assignee: to } : null,
        }),
      );
      break;
    }
    case 'ignored':
    case 'archived': {
      const substatus = record.status?.value.substatus;
      records.push(
        issueTransition(
          record.id,
          'issue.ignored',
          event.sentAt,
          `${label} archived${substatus ? ` (${substatus.replaceAll('_', ' ')})` : ''}${by}`,
          { projectSlug: project },
        ),
      );
      break;
    }
    case 'unresolved': {
      const regressed = record.status?.value.substatus === 'regressed' || !by;
      const type = regressed ? 'issue.regressed' : 'issue.unresolved';
      records.push(
        issueTransition(record.id, type, event.sentAt, `${label} ${regressed ? 'regressed' : 'reopened'}${by}`, {
          projectSlug: project,
          release: record.lastRelease ?? null,
        }),
      );
      break;
    }
  }
  return records;
}

function mapErrorWebhook(event: Of<'error'>): MemoryRecord[] {
  const mapped = mapEvent(event.data.error, event.sentAt);
  return mapped.issueId ? [mapped, issueSeenInEvent(mapped.issueId, mapped)] : [mapped];
}

function mapEventAlert(event: Of<'event_alert'>): MemoryRecord[] {
  const mapped = mapEvent(event.data.event, event.sentAt);
  const rule = text(event.data.triggered_rule) ?? text(obj(event.data.issue_alert)?.title) ?? 'issue alert';
  const alertId = `issue_alert:${rule}:${mapped.id}`;
  const records: MemoryRecord[] = [
    mapped,
    {
      kind: 'alert',
      id: alertId,
      source: 'issue_alert',
      ruleId: null,
      ruleName: rule,
      title: text(obj(event.data.issue_alert)?.title) ?? rule,
      description: mapped.title,
      issueId: mapped.issueId,
      eventId: mapped.id,
      projects: mapped.projectId ? [mapped.projectId] : [],
      url: mapped.url,
      startedAt: event.sentAt,
      state: delivered(event, 'triggered'),
    },
    observation({
      id: `alert.triggered:${alertId}`,
      type: 'alert.triggered',
      occurredAt: event.sentAt,
      subject: { type: 'alert', id: alertId },
      issueId: mapped.issueId,
      projectSlug: null,
      release: mapped.release,
      environment: mapped.environment,
      summary:
        `Alert "${rule}" fired${mapped.issueId ? ` on issue ${mapped.issueId}` : ''}: ${mapped.title ?? ''}`.trim(),
    }),
  ];
  if (mapped.issueId) records.push(issueSeenInEvent(mapped.issueId, mapped));
  return records;
}

function mapMetricAlert(event: Of<'metric_alert'>): MemoryRecord[] {
  const incident = event.data.metric_alert;
  const rule = obj(incident.alert_rule) ?? {};
  const alertId = `metric_alert:${incident.id}`;
  const title =
    text(event.data.description_title) ?? text(rule.name) ?? text(incident.title) ?? `Metric alert ${incident.id}`;
  const projects = arr(incident.projects ?? rule.projects)
    .map(str)
    .filter((p): p is string => p !== null);
  const type = `alert.${event.action}` as const;
  return [
    {
      kind: 'alert',
      id: alertId,
      source: 'metric_alert',
      ruleId: str(rule.id),
      ruleName: text(rule.name),
      title,
      // Sentry writes a literal backslash-n here; show it as the line break it means.
      description: text(event.data.description_text)?.replaceAll('\\n', '\n') ?? null,
      issueId: null,
      eventId: null,
      projects,
      url: text(event.data.web_url),
      startedAt: isoTime(incident.date_started) ?? isoTime(incident.date_detected),
      state: delivered(event, event.action),
    },
    observation({
      id: `${type}:${alertId}:${minuteOf(event.sentAt)}`,
      type,
      occurredAt: event.sentAt,
      subject: { type: 'alert', id: alertId },
      issueId: null,
      projectSlug: projects[0] ?? null,
      environment: text(rule.environment),
      summary: `Metric alert "${text(rule.name) ?? title}" ${event.action}${projects.length ? ` (${projects.join(', ')})` : ''}`,
    }),
  ];
}

function mapComment(event: Of<'comment'>): MemoryRecord[] {
  const { comment_id: id, issue_id: issueId, comment, project_slug: projectSlug } = event.data;
  const author = event.actor?.type === 'user' && event.actor.id ? { id: event.actor.id, name: event.actor.name } : null;
  const deleted = event.action === 'deleted';
  // Every comment action carries the note's creation time (to the microsecond), never an edit time.
  const postedAt = isoTime(event.data.timestamp);
  const createdAt = event.action === 'created' ? (postedAt ?? event.sentAt) : null;
  const value = { text: deleted ? null : (comment ?? null), deleted };
  // An edit or a deletion comes after the posting, even within the same second; a deletion is final.
  const body = createdAt
    ? delivered(event, value, 'initial', createdAt)
    : delivered(event, value, deleted ? 'final' : 'change', maxTime(event.sentAt, postedAt)!);
  const who = author?.name ?? 'someone';
  const type = `comment.${event.action}` as const;
  return [
    {
      kind: 'comment',
      id,
      issueId,
      projectSlug: projectSlug ?? null,
      author,
      createdAt,
      body,
    },
    observation({
      id: event.action === 'created' ? `${type}:${id}` : `${type}:${id}:${minuteOf(event.sentAt)}`,
      type,
      occurredAt: createdAt ?? event.sentAt,
      subject: { type: 'comment', id },
      issueId,
      projectSlug: projectSlug ?? null,
      summary: deleted
        ? `${who} deleted a comment on issue ${issueId}`
        : `${who} ${event.action === 'created' ? 'commented' : 'edited a comment'} on issue ${issueId}: ${truncate(comment ?? '', 200)}`,
    }),
  ];
}

const stageNames: Record<InsightStage, string> = {
  root_cause: 'root cause',
  solution: 'solution',
  coding: 'code change',
  triage: 'triage',
  impact_assessment: 'impact assessment',
  pr: 'pull request',
};

/** What Seer concluded, in one line, and the details worth keeping (never the full diff). */
function seerSummary(stage: InsightStage, data: Json): { summary: string | null; details: unknown; files?: string[] } {
  switch (stage) {
    case 'root_cause': {
      const rootCause = obj(data.root_cause);
      const steps = arr(rootCause?.steps)
        .map(obj)
        .filter((s): s is Json => s !== null);
      const key = steps.find((s) => s.is_most_important_event === true);
      const file = obj(key?.relevant_code_file);
      return {
        summary: text(rootCause?.description),
        details: rootCause
          ? {
              steps: steps.map((s) => text(s.title)).filter(Boolean),
              keyStep: text(key?.title),
              file: text(file?.file_path),
              repo: text(file?.repo_name),
            }
          : null,
        files: rootCauseFiles(steps),
      };
    }
    case 'solution': {
      const solution = obj(data.solution);
      const steps = arr(solution?.steps)
        .map((s) => text(obj(s)?.title))
        .filter(Boolean);
      return { summary: text(solution?.description), details: solution ? { steps } : null };
    }
    case 'coding': {
      const changes = arr(data.changes)
        .map(obj)
        .filter((c): c is Json => c !== null);
      const summary =
        changes
          .map((c) => text(c.title))
          .filter(Boolean)
          .join('; ') || null;
      return {
        summary,
        details: changes.length
          ? {
              changes: changes.map((c) => ({
                repo: text(c.repo_name),
                title: text(c.title),
                description: text(c.description),
                branch: text(c.branch_name),
              })),
            }
          : null,
      };
    }
    case 'pr': {
      const prs = arr(data.pull_requests)
        .map(obj)
        .filter((p): p is Json => p !== null);
      const links = prs.map((p) => ({
        url: text(obj(p.pull_request)?.pr_url),
        number: str(obj(p.pull_request)?.pr_number),
        repo: text(p.repo_name),
        provider: text(p.provider),
      }));
      return {
        summary:
          links
            .map((l) => l.url)
            .filter(Boolean)
            .join(', ') || null,
        details: links.length ? { pullRequests: links } : null,
      };
    }
    default: {
      // triage_* and impact_assessment_* bodies are not documented with examples yet: keep the gist.
      const payload = obj(data[stage]) ?? obj(data.result);
      return { summary: text(payload?.description) ?? text(payload?.summary), details: payload };
    }
  }
}

/** The code files a root cause's steps point at (Seer writes `N/A` for a step without one). */
export function rootCauseFiles(steps: Json[]): string[] {
  const files = steps
    .map((s) => text(obj(s.relevant_code_file)?.file_path))
    .filter((f): f is string => f !== null && f !== 'N/A');
  return [...new Set(files)];
}

function mapSeer(event: Of<'seer'>): MemoryRecord[] {
  const action = event.action;
  const stage = (action === 'pr_created' ? 'pr' : action.replace(/_(started|completed)$/, '')) as InsightStage;
  const state = action.endsWith('_started') ? 'started' : 'completed';
  const issueId = event.data.group_id;
  const runId = event.data.run_id ?? 'unknown';
  const { summary, details, files } =
    state === 'completed' ? seerSummary(stage, event.data) : { summary: null, details: null, files: undefined };
  const type = `insight.${state}` as const;
  const name = stageNames[stage];
  return [
    { kind: 'insight', issueId, runId, stage, state, summary, details, ...(files ? { files } : {}), at: event.sentAt },
    observation({
      id: `${type}:${issueId}:${runId}:${stage}`,
      type,
      occurredAt: event.sentAt,
      subject: { type: 'insight', id: `${runId}:${stage}` },
      issueId,
      projectSlug: null,
      summary:
        state === 'started'
          ? `Seer started ${name} analysis for issue ${issueId}`
          : `Seer ${action === 'pr_created' ? 'opened a pull request' : `${name}`} for issue ${issueId}${summary ? `: ${truncate(summary, 240)}` : ''}`,
    }),
  ];
}
