import type { ActionFilterQuery } from '@countersign/contracts';
import type { AuditExportRequest, ExportFormat } from '../ports.ts';
import type { Caller } from '../keys/key-service.ts';
import type { ActionReads } from './reads.ts';
import { filterFromQuery, isNarrowed } from './search.ts';

/**
 * What an auditor's export covers, from the list's filters (GET /v1/audit/export and the
 * console's download parse them with the list's own schema). With no filter it is the whole
 * chain in the range; with one, a selection: the matching actions' artifacts, the filter
 * signed into the trailer as the query parameters that chose them. Either way each record says
 * what was approved, redacted as the caller reads it.
 */
export async function auditExportRequest(
  reads: ActionReads,
  caller: Caller,
  opts: { format: ExportFormat; range: { from?: Date; to?: Date }; query: ActionFilterQuery },
): Promise<AuditExportRequest> {
  reads.assertAuditor(caller);
  const filter = filterFromQuery(opts.query);
  const request: AuditExportRequest = { format: opts.format, range: opts.range, subjectOf: reads.subjects(caller) };
  if (!isNarrowed(filter)) return request;
  const actionIds: string[] = [];
  for await (const id of reads.matchingIds(caller, filter)) actionIds.push(id);
  return { ...request, selection: { filter: queryParams(opts.query), actionIds } };
}

/** The parsed filter as query parameters (a list comma-joined), as a trailer signs it. */
function queryParams(query: ActionFilterQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}
