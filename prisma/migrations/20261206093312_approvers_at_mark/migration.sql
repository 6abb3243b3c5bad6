-- AlterTable
ALTER TABLE "Action" ADD COLUMN     "approversAtMark" TEXT[] DEFAULT ARRAY[]::TEXT[];
