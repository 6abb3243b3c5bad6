-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ActionStatus" AS ENUM ('pending', 'approved', 'refused', 'expired', 'cancelled');

-- CreateEnum
CREATE TYPE "VerdictOutcome" AS ENUM ('approve', 'refuse', 'escalate');

-- CreateEnum
CREATE TYPE "PrincipalKind" AS ENUM ('person', 'agent');

-- CreateTable
CREATE TABLE "Action" (
    "id" TEXT NOT NULL,
    "status" "ActionStatus" NOT NULL,
    "outcome" "VerdictOutcome" NOT NULL,
    "actorId" TEXT NOT NULL,
    "actorKind" "PrincipalKind" NOT NULL,
    "ownerId" TEXT,
    "onBehalfOf" TEXT,
    "apiKeyId" TEXT NOT NULL,
    "intent" JSONB NOT NULL,
    "intentHash" TEXT NOT NULL,
    "actionType" TEXT NOT NULL,
    "policyDigest" TEXT NOT NULL,
    "ruleIds" TEXT[],
    "reasons" TEXT[],
    "requirement" JSONB,
    "overrideRoles" TEXT[],
    "expiresAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMPTZ(3),
    "decidedBy" TEXT,
    "decisionReason" TEXT,
    "overriddenBy" TEXT,
    "overrideReason" TEXT,
    "idempotencyKey" TEXT,
    "requestHash" TEXT,

    CONSTRAINT "Action_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Vote" (
    "id" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "personId" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT,
    "channel" TEXT NOT NULL,
    "roles" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Vote_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "principalKind" "PrincipalKind" NOT NULL,
    "canDelegate" BOOLEAN NOT NULL DEFAULT false,
    "label" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Artifact" (
    "seq" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "actionId" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "canonical" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "keyId" TEXT NOT NULL,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ArtifactHead" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "ArtifactHead_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConfigVersion" (
    "file" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConfigVersion_pkey" PRIMARY KEY ("file","digest")
);

-- CreateIndex
CREATE INDEX "Action_status_expiresAt_idx" ON "Action"("status", "expiresAt");

-- CreateIndex
CREATE INDEX "Action_createdAt_idx" ON "Action"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Action_apiKeyId_idempotencyKey_key" ON "Action"("apiKeyId", "idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "Vote_actionId_personId_key" ON "Vote"("actionId", "personId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_prefix_key" ON "ApiKey"("prefix");

-- CreateIndex
CREATE INDEX "ApiKey_principalId_idx" ON "ApiKey"("principalId");

-- CreateIndex
CREATE UNIQUE INDEX "Artifact_hash_key" ON "Artifact"("hash");

-- CreateIndex
CREATE INDEX "Artifact_actionId_idx" ON "Artifact"("actionId");

-- CreateIndex
CREATE INDEX "Artifact_at_idx" ON "Artifact"("at");

-- AddForeignKey
ALTER TABLE "Vote" ADD CONSTRAINT "Vote_actionId_fkey" FOREIGN KEY ("actionId") REFERENCES "Action"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
