import type { SealedArtifact } from '@countersign/contracts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { toSealedArtifact } from './rows.ts';

export interface ExportRange {
  from?: Date;
  to?: Date;
}

/**
 * Streams artifacts for an export. A time window is turned into a contiguous seq range so an
 * export never has holes a verifier would (rightly) flag as gaps.
 */
export async function* readArtifacts(prisma: PrismaClient, range: ExportRange, pageSize = 1000): AsyncGenerator<SealedArtifact> {
  const where = {
    ...(range.from || range.to ? { at: { ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) } } : {}),
  };
  const bounds = await prisma.artifact.aggregate({ where, _min: { seq: true }, _max: { seq: true } });
  const first = bounds._min.seq;
  const last = bounds._max.seq;
  if (first === null || last === null) return;
  let cursor = first;
  while (cursor <= last) {
    const rows = await prisma.artifact.findMany({
      where: { seq: { gte: cursor, lte: last } },
      orderBy: { seq: 'asc' },
      take: pageSize,
    });
    if (rows.length === 0) break;
    for (const row of rows) yield toSealedArtifact(row);
    cursor = rows[rows.length - 1]!.seq + 1n;
  }
}
