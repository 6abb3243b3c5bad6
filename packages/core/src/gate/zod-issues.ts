import type { FieldIssue } from '@countersign/contracts';

/** Structural view of a zod issue, so an error from a second copy of zod still maps. */
export interface ZodLikeIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
}

/** The field name for an issue about the body as a whole. */
export const ROOT_FIELD = '(body)';

/**
 * Turns zod issues into field-precise problem details ("action.type: …"); each unknown key is
 * reported under its own name. The one mapping used by the engine and the HTTP error handler.
 */
export function zodIssues(error: { issues: readonly ZodLikeIssue[] }): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys' && Array.isArray(issue.keys)) {
      for (const key of issue.keys) out.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
    } else {
      out.push({ field: base || ROOT_FIELD, message: issue.message });
    }
  }
  return out;
}
