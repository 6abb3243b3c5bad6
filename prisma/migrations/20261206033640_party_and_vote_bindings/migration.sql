-- AlterTable
ALTER TABLE "Action" ADD COLUMN     "partyBindings" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "Vote" ADD COLUMN     "binding" TEXT;
