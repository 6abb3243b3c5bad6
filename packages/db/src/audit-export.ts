import type { SealedArtifact } from '@countersign/contracts';
import type { AuditExportRequest } from '@countersign/core';
import { recordToCsvRow, exportCsvHeader, sealTrailer, SelectionDigest, trailerToCsvRow, type Keyring, type RecordSubject } from '@countersign/evidence';
import type { PrismaClient } from './generated/prisma/client.ts';
import { readArtifacts } from './artifact-reader.ts';
import { readSelectedArtifacts } from './artifact-selection.ts';

/**
 * The lines of an audit export: the artifacts, then a signed trailer (count, first/last seq,
 * last hash) so that a verifier can tell a complete export from a cut one. Without a selection
 * it is every artifact in the range (a gapless piece of the chain); with one, the chosen
 * actions' artifacts, and the trailer also signs the filter and a digest of the records'
 * hashes in order, which proves the selection whole despite its gaps. Each record of an action
 * carries `subject` (what was approved), an unsigned annotation. Shared by the HTTP route,
 * the console and the CLI so all produce the same format.
 */
export async function* auditExportLines(prisma: PrismaClient, keyring: Keyring, opts: AuditExportRequest & { now?: () => Date }): AsyncGenerator<string> {
  let records = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  const digest = new SelectionDigest();
  const artifacts = opts.selection ? readSelectedArtifacts(prisma, opts.selection.actionIds, opts.range) : readArtifacts(prisma, opts.range);
  if (opts.format === 'csv') yield exportCsvHeader() + '\n';
  for await (const a of artifacts) {
    records++;
    firstSeq ??= a.seq;
    lastSeq = a.seq;
    lastHash = a.hash;
    digest.add(a.hash);
    const subject = await subjectFor(a, opts.subjectOf);
    if (opts.format === 'csv') yield recordToCsvRow(a, subject) + '\n';
    else yield JSON.stringify(subject ? { ...a, subject } : a) + '\n';
  }
  const trailer = sealTrailer({
    records,
    firstSeq,
    lastSeq,
    lastHash,
    from: opts.range.from?.toISOString() ?? null,
    to: opts.range.to?.toISOString() ?? null,
    exportedAt: opts.now?.() ?? new Date(),
    key: keyring.active,
    ...(opts.selection ? { selection: { filter: opts.selection.filter, digest: digest.hex() } } : {}),
  });
  yield (opts.format === 'csv' ? trailerToCsvRow(trailer) : JSON.stringify(trailer)) + '\n';
}

async function subjectFor(a: SealedArtifact, subjectOf: AuditExportRequest['subjectOf']): Promise<RecordSubject | null> {
  if (!a.actionId || !subjectOf) return null;
  const s = await subjectOf(a.actionId);
  return s ? { type: s.actionType, resource: s.resource, summary: s.summary, params: s.params } : null;
}
