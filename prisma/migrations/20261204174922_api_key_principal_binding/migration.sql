-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "principalBinding" TEXT;
