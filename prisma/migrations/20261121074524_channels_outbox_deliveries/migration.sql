-- CreateTable
CREATE TABLE "OutboxEvent" (
    "id" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatchedAt" TIMESTAMPTZ(3),

    CONSTRAINT "OutboxEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChannelCard" (
    "id" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "messageRef" JSONB,
    "state" TEXT NOT NULL,
    "error" TEXT,
    "tier" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChannelCard_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TeamsConversation" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "tenantId" TEXT NOT NULL,
    "teamId" TEXT,
    "teamName" TEXT,
    "channelName" TEXT,
    "aadObjectId" TEXT,
    "reference" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TeamsConversation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReleaseRedemption" (
    "jti" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "redeemedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "redeemedBy" TEXT,

    CONSTRAINT "ReleaseRedemption_pkey" PRIMARY KEY ("jti")
);

-- CreateTable
CREATE TABLE "Delivery" (
    "id" TEXT NOT NULL,
    "actionId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "responseStatus" INTEGER,
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deliveredAt" TIMESTAMPTZ(3),

    CONSTRAINT "Delivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OutboxEvent_dispatchedAt_id_idx" ON "OutboxEvent"("dispatchedAt", "id");

-- CreateIndex
CREATE INDEX "OutboxEvent_actionId_idx" ON "OutboxEvent"("actionId");

-- CreateIndex
CREATE INDEX "ChannelCard_actionId_idx" ON "ChannelCard"("actionId");

-- CreateIndex
CREATE UNIQUE INDEX "ChannelCard_actionId_channel_target_key" ON "ChannelCard"("actionId", "channel", "target");

-- CreateIndex
CREATE INDEX "TeamsConversation_aadObjectId_idx" ON "TeamsConversation"("aadObjectId");

-- CreateIndex
CREATE INDEX "TeamsConversation_teamId_idx" ON "TeamsConversation"("teamId");

-- CreateIndex
CREATE INDEX "ReleaseRedemption_actionId_idx" ON "ReleaseRedemption"("actionId");

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_actionId_kind_key" ON "Delivery"("actionId", "kind");
