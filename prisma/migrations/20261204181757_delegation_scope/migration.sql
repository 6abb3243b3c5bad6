-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "delegateFor" TEXT[] DEFAULT ARRAY[]::TEXT[];
