import type { PrismaClient } from '@countersign/db/testing';

/**
 * Waits until every outbox event of `actionId` is marked dispatched. A card can reach the chat
 * fake before its event is marked (the first attempt runs inside the dispatcher's claim), and
 * the sweeper passes over an action whose events are still being dispatched: a test that moves
 * the clock and sweeps once must wait for this first, as the sweeper's next round would.
 */
export async function outboxDispatched(prisma: PrismaClient, actionId: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await prisma.outboxEvent.count({ where: { actionId, dispatchedAt: null } })) > 0) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for the outbox events of ${actionId} to be dispatched`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
