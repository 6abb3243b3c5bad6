-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "delegateBindings" TEXT[] DEFAULT ARRAY[]::TEXT[];
