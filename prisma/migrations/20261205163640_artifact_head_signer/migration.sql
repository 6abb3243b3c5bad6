-- The chain head carries the signer and time of the artifact it points at, written by the same
-- statement that moves it. A transaction that waited for the head's row lock reads the row as
-- the previous holder left it, but the rest of the database as of before its wait: it could
-- not see that holder's artifact and had to ask for it in a second statement, under the lock.
-- "lastSeq" names the artifact these columns describe; a writer that moved the head without
-- them (a process of an earlier version, during an upgrade) leaves it behind, and readers then
-- ask "Artifact" as before.

-- AlterTable
ALTER TABLE "ArtifactHead" ADD COLUMN     "lastAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastKeyId" TEXT,
ADD COLUMN     "lastSeq" BIGINT;

-- Hand-written (Prisma's schema diff ignores data and grants, so schema.prisma stays in sync):
-- the head as it stands, and the service's login may write the new columns with the head's.
UPDATE "ArtifactHead" h SET "lastSeq" = a.seq, "lastKeyId" = a."keyId", "lastAt" = a.at
FROM "Artifact" a WHERE a.seq = h.seq;

GRANT UPDATE ("lastSeq", "lastKeyId", "lastAt") ON "ArtifactHead" TO "countersign_service";
