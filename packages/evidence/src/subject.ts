/**
 * What an export record says was approved: the action's type, resource, summary and params as
 * its approvers saw them (redacted by the rule's `redact`, unless the exporter may read them
 * unredacted). An unsigned annotation, the `subject` member of a JSONL record and the
 * resource/summary/params columns of a CSV row: the signed `canonical` binds the intent only by
 * its hash, and redacted params cannot be checked against it. Verification ignores it; it is
 * there so people can read an export, never proof of anything.
 */
export interface RecordSubject {
  type: string;
  resource: string | null;
  summary: string | null;
  params: Record<string, unknown>;
}

/** The member name of the annotation on a JSONL record. */
export const SUBJECT_MEMBER = 'subject';
