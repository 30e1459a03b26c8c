import type { EventRecord, StackFrame } from '../../memory/records.js';
import { arr, isoTime, num, obj, str, tagMap, text, type Json } from './values.js';

const MAX_FRAMES = 5;

/** Exception values from either shape: webhook `exception.values` or API `entries[type=exception].data.values`. */
function exceptionValues(event: Json): Json[] {
  const direct = arr(obj(event.exception)?.values);
  if (direct.length) return direct.map(obj).filter((v): v is Json => v !== null);
  const entry = arr(event.entries)
    .map(obj)
    .find((e) => e?.type === 'exception');
  return arr(obj(entry?.data)?.values)
    .map(obj)
    .filter((v): v is Json => v !== null);
}

function mapFrame(frame: Json): StackFrame {
  return {
    filename: text(frame.filename) ?? text(frame.abs_path) ?? text(frame.absPath),
    function: text(frame.function),
    module: text(frame.module),
    lineNo: num(frame.lineno ?? frame.lineNo),
    colNo: num(frame.colno ?? frame.colNo),
    inApp: frame.in_app === true || frame.inApp === true,
  };
}

/**
 * The frames an agent needs, not the whole trace: the innermost in-app frames of the primary
 * (last) exception, innermost first; when none is in-app, the innermost few frames.
 */
export function topFrames(event: Json): StackFrame[] {
  const values = exceptionValues(event);
  const primary = values[values.length - 1];
  const frames = arr(obj(primary?.stacktrace)?.frames)
    .map(obj)
    .filter((f): f is Json => f !== null)
    .map(mapFrame)
    .reverse();
  const inApp = frames.filter((f) => f.inApp);
  return (inApp.length ? inApp : frames).slice(0, inApp.length ? MAX_FRAMES : 3);
}

/**
 * What Sentry grouped the event by, as opaque keys: its grouping hashes (webhook `hashes`, API
 * `fingerprints`) and, when the SDK or a rule set one, its custom fingerprint (`fingerprint` other
 * than the bare `{{ default }}`). Null when the payload names neither.
 */
export function groupingKeys(event: Json): string[] | null {
  const hashes = [...arr(event.hashes), ...arr(event.fingerprints)].map(str).filter((h): h is string => h !== null);
  const fingerprint = arr(event.fingerprint)
    .map(str)
    .filter((f): f is string => f !== null);
  const custom = fingerprint.some((f) => f !== '{{ default }}') ? [`fingerprint:${JSON.stringify(fingerprint)}`] : [];
  const keys = [...new Set([...hashes.map((h) => `hash:${h}`), ...custom])];
  return keys.length ? keys : null;
}

/** One Sentry event (webhook `error`/`event` or API event) as a memory record. */
export function mapEvent(event: Json, fallbackTime: string): EventRecord {
  const tags = tagMap(event.tags);
  const metadata = obj(event.metadata) ?? {};
  const values = exceptionValues(event);
  const primary = values[values.length - 1] ?? {};
  const errorValue = text(metadata.value) ?? text(primary.value);
  const logentry = obj(event.logentry);
  return {
    kind: 'event',
    id: str(event.event_id) ?? str(event.eventID) ?? str(event.id)!,
    issueId: str(event.issue_id) ?? str(event.groupID),
    projectId: str(event.project) ?? str(event.projectID),
    title: text(event.title),
    message: text(event.message) ?? text(logentry?.formatted) ?? errorValue,
    culprit: text(event.culprit),
    level: text(event.level) ?? tags.level ?? null,
    platform: text(event.platform),
    release: text(event.release) ?? text(obj(event.release)?.version) ?? tags.release ?? null,
    environment: text(event.environment) ?? tags.environment ?? null,
    errorType: text(metadata.type) ?? text(primary.type),
    errorValue,
    occurredAt: isoTime(event.datetime) ?? isoTime(event.dateCreated) ?? isoTime(event.timestamp) ?? fallbackTime,
    url: text(event.web_url),
    tags,
    topFrames: topFrames(event),
    fingerprint: groupingKeys(event),
  };
}
