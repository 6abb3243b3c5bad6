import type { SealedArtifact } from '@countersign/contracts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { ExportRange } from './artifact-reader.ts';
import { toSealedArtifact } from './rows.ts';

/**
 * Streams the artifacts of the given actions in seq order, for a selection export. Keyset pages
 * on seq (indexed by actionId and by seq); the id list is sent in chunks so one query never
 * carries more bind parameters than Postgres accepts, and chunks are merged back into seq order.
 */
export async function* readSelectedArtifacts(
  prisma: PrismaClient,
  actionIds: string[],
  range: ExportRange,
  pageSize = 1000,
): AsyncGenerator<SealedArtifact> {
  if (actionIds.length === 0) return;
  const at = range.from || range.to ? { at: { ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) } } : {};
  const chunks: string[][] = [];
  for (let i = 0; i < actionIds.length; i += CHUNK) chunks.push(actionIds.slice(i, i + CHUNK));
  let after = 0n;
  for (;;) {
    const pages = await Promise.all(
      chunks.map((ids) => prisma.artifact.findMany({ where: { actionId: { in: ids }, seq: { gt: after }, ...at }, orderBy: { seq: 'asc' }, take: pageSize })),
    );
    // Only up to the lowest last seq among full pages is every chunk's share known.
    let upTo: bigint | null = null;
    for (const page of pages) {
      if (page.length === pageSize) {
        const last = page[page.length - 1]!.seq;
        if (upTo === null || last < upTo) upTo = last;
      }
    }
    const rows = pages.flat().filter((r) => upTo === null || r.seq <= upTo).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    for (const row of rows) yield toSealedArtifact(row);
    if (upTo === null) return;
    after = upTo;
  }
}

const CHUNK = 5000;
