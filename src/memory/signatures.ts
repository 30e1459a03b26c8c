import { insertAllNew, type MemoryDatabase } from './database.js';
import type { StackFrame } from './records.js';
import type { IssueSignatureTable, IssueTable } from './schema.js';

export type SignatureKind = IssueSignatureTable['kind'];

/** Longer values are cut (both engines index the whole value; a culprit or a path rarely comes close). */
export const SIGNATURE_MAX = 500;

const clipValue = (value: string) => value.slice(0, SIGNATURE_MAX);

/** Error type and culprit together: the same exception thrown from the same place, in any project. */
export function typeCulpritSignature(errorType: string | null, culprit: string | null): string | null {
  return errorType && culprit ? clipValue(`${errorType}|${culprit}`) : null;
}

/** The innermost in-app frame, file and function: the same code failing, whatever the message. */
export function frameSignature(frames: readonly Pick<StackFrame, 'filename' | 'function' | 'inApp'>[]): string | null {
  const top = frames[0];
  return top?.inApp && top.filename && top.function ? clipValue(`${top.filename}|${top.function}`) : null;
}

/** What an issue row says about itself: its type and culprit, and its top in-app frame. */
export function ownSignatures(
  row: Pick<IssueTable, 'error_type' | 'culprit' | 'top_frames'>,
): [SignatureKind, string][] {
  const frames = row.top_frames ? (JSON.parse(row.top_frames) as StackFrame[]) : [];
  const out: [SignatureKind, string][] = [];
  const typeCulprit = typeCulpritSignature(row.error_type, row.culprit);
  if (typeCulprit) out.push(['type_culprit', typeCulprit]);
  const frame = Array.isArray(frames) ? frameSignature(frames) : null;
  if (frame) out.push(['frame', frame]);
  return out;
}

/**
 * Keeps an issue's `type_culprit` and `frame` signatures equal to its row: when the merge changed
 * them (error type, culprit, top frame), the old ones go and the new ones come; else nothing is written.
 */
export async function syncIssueSignatures(
  db: MemoryDatabase,
  workspaceId: string,
  row: IssueTable,
  current: IssueTable | undefined,
): Promise<void> {
  const next = ownSignatures(row);
  const before = current ? ownSignatures(current) : [];
  if (current && sameSignatures(before, next)) return;
  if (before.length)
    await db.run(
      db.qb
        .deleteFrom('issue_signatures')
        .where('workspace_id', '=', workspaceId)
        .where('issue_id', '=', row.id)
        .where('kind', 'in', OWN_KINDS),
    );
  await addSignatures(
    db,
    next.flatMap(([kind, value]) => signatureRows(workspaceId, row.id, kind, [value])),
  );
}

/** The kinds of signature an issue row itself says (see ownSignatures). */
export const OWN_KINDS: SignatureKind[] = ['type_culprit', 'frame'];

export function sameSignatures(a: [SignatureKind, string][], b: [SignatureKind, string][]): boolean {
  return a.join('\n') === b.join('\n');
}

/** Rows of signatures that only accumulate (an event's grouping keys, files a root cause names), in key order. */
export function signatureRows(
  workspaceId: string,
  issueId: string,
  kind: SignatureKind,
  values: readonly string[],
): IssueSignatureTable[] {
  return [...new Set(values.filter(Boolean).map(clipValue))]
    .sort()
    .map((value) => ({ workspace_id: workspaceId, kind, value, issue_id: issueId }));
}

/** Adds signature rows (distinct keys; in key order, so concurrent writers of the same rows take their locks in the same order). */
export async function addSignatures(db: MemoryDatabase, rows: readonly IssueSignatureTable[]): Promise<void> {
  await insertAllNew(db, 'issue_signatures', rows);
}

/**
 * The migration that creates the table and fills it from what is stored: each issue's type and
 * culprit and top in-app frame, and the file of each root cause. Grouping keys come with events
 * stored from then on (events did not keep them before). `text` is the engine's text type.
 */
export function issueSignaturesSql(engine: 'sqlite' | 'postgres', text: string): string {
  // The JSON paths the backfill reads: the top frame of an issue, the file of a root cause.
  const json =
    engine === 'sqlite'
      ? {
          inApp: "json_extract(top_frames, '$[0].inApp') = 1",
          filename: "json_extract(top_frames, '$[0].filename')",
          fn: "json_extract(top_frames, '$[0].function')",
          file: "json_extract(details, '$.file')",
        }
      : {
          inApp: "jsonb_typeof(top_frames) = 'array' AND (top_frames -> 0 ->> 'inApp') = 'true'",
          filename: "(top_frames -> 0 ->> 'filename')",
          fn: "(top_frames -> 0 ->> 'function')",
          file: "(details ->> 'file')",
        };
  const conflict = 'ON CONFLICT DO NOTHING';
  return `
CREATE TABLE issue_signatures (
  workspace_id ${text} NOT NULL, kind ${text} NOT NULL, value ${text} NOT NULL, issue_id ${text} NOT NULL,
  PRIMARY KEY (workspace_id, kind, value, issue_id)
)${engine === 'sqlite' ? ' WITHOUT ROWID' : ''};
CREATE INDEX issue_signatures_by_issue ON issue_signatures (workspace_id, issue_id);
INSERT INTO issue_signatures (workspace_id, kind, value, issue_id)
  SELECT workspace_id, 'type_culprit', substr(error_type || '|' || culprit, 1, ${SIGNATURE_MAX}), id
    FROM issues WHERE error_type IS NOT NULL AND error_type <> '' AND culprit IS NOT NULL AND culprit <> ''
  ${conflict};
INSERT INTO issue_signatures (workspace_id, kind, value, issue_id)
  SELECT workspace_id, 'frame', substr(${json.filename} || '|' || ${json.fn}, 1, ${SIGNATURE_MAX}), id
    FROM issues
   WHERE top_frames IS NOT NULL AND ${json.inApp}
     AND ${json.filename} IS NOT NULL AND ${json.filename} <> '' AND ${json.fn} IS NOT NULL AND ${json.fn} <> ''
  ${conflict};
INSERT INTO issue_signatures (workspace_id, kind, value, issue_id)
  SELECT workspace_id, 'seer_file', substr(${json.file}, 1, ${SIGNATURE_MAX}), issue_id
    FROM insights
   WHERE stage = 'root_cause' AND details IS NOT NULL AND ${json.file} IS NOT NULL AND ${json.file} NOT IN ('', 'N/A')
  ${conflict};
`;
}
