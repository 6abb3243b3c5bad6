-- One redemption per approval and audience, enforced by the database.
-- Rows written before this cannot collide: redemption already refused a second row for the
-- same (actionId, audience) under an advisory lock. The unique index also serves lookups by
-- actionId, so the plain index on it goes.

-- DropIndex
DROP INDEX "ReleaseRedemption_actionId_idx";

-- CreateIndex
CREATE UNIQUE INDEX "ReleaseRedemption_actionId_audience_key" ON "ReleaseRedemption"("actionId", "audience");
