import type { ExportFormat } from '@countersign/core';
import { artifactToCsvRow, exportCsvHeader, sealTrailer, trailerToCsvRow, type Keyring } from '@countersign/evidence';
import type { PrismaClient } from './generated/prisma/client.ts';
import { readArtifacts, type ExportRange } from './artifact-reader.ts';

/**
 * The lines of an audit export: every artifact in the range, then a signed trailer (count,
 * first/last seq, last hash) so that a verifier can tell a complete export from a cut one.
 * Shared by the HTTP route and the CLI so both produce byte-for-byte the same format.
 */
export async function* auditExportLines(
  prisma: PrismaClient,
  keyring: Keyring,
  opts: { format: ExportFormat; range: ExportRange; now?: () => Date },
): AsyncGenerator<string> {
  let records = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let lastHash: string | null = null;
  if (opts.format === 'csv') yield exportCsvHeader() + '\n';
  for await (const a of readArtifacts(prisma, opts.range)) {
    records++;
    firstSeq ??= a.seq;
    lastSeq = a.seq;
    lastHash = a.hash;
    yield (opts.format === 'csv' ? artifactToCsvRow(a) : JSON.stringify(a)) + '\n';
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
  });
  yield (opts.format === 'csv' ? trailerToCsvRow(trailer) : JSON.stringify(trailer)) + '\n';
}
