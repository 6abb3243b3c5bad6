import type { GateEvent } from '@countersign/contracts';
import type { ActionRecord } from '@countersign/core';
import type { JobRequest } from '@countersign/queue';
import { timersFor } from '../timers.ts';

// What each outbox event asks of the queue. Pure: the dispatcher enqueues what this returns.

export type PlannedJob = JobRequest & { delayMs: number; ref?: string };

/**
 * @param eventId the outbox row id: jobs caused by one event share it as their `ref`, so
 *   dispatching the event again is a no-op, while a later event (another vote) gets new jobs.
 */
export function jobsForEvent(event: GateEvent, eventId: string, action: ActionRecord, now: Date): PlannedJob[] {
  const actionId = event.actionId;
  switch (event.type) {
    case 'action.escalated': {
      const jobs: PlannedJob[] = [{ name: 'post-cards', payload: { actionId, tier: 0 }, delayMs: 0 }];
      for (const t of timersFor(action)) jobs.push({ ...t, delayMs: Math.max(0, t.dueAt.getTime() - now.getTime()) });
      return jobs;
    }
    case 'vote.recorded':
      // A vote on an action that is decided by now (this vote, or a later one) needs no render
      // of its own: every final state emits action.decided, whose update-cards shows it.
      return action.status === 'pending' ? [{ name: 'update-cards', payload: { actionId }, delayMs: 0, ref: eventId }] : [];
    case 'action.decided': {
      const jobs: PlannedJob[] = [];
      // Automatic decisions (policy at submission) never had cards, and the caller already has the answer.
      // The cards show the outcome and the requester is told, in one job: update-cards tells the
      // requester once the action is decided, and hands what the notice cannot finish to a
      // notify-requester job. (During a rolling deploy a worker of the previous release runs it
      // as a card update only: the cards still show the outcome, that requester is not told.)
      if (!event.automatic) jobs.push({ name: 'update-cards', payload: { actionId }, delayMs: 0, ref: eventId });
      if (action.intent.callbackUrl) jobs.push({ name: 'deliver-webhook', payload: { actionId }, delayMs: 0, ref: eventId });
      // Held execution only where the rule named an executor (stored with the requirement; the
      // handler checks again, and that the action is approved, before anything runs).
      if (event.status === 'approved' && action.requirement?.executor) jobs.push({ name: 'execute-action', payload: { actionId }, delayMs: 0, ref: eventId });
      return jobs;
    }
  }
}

/**
 * The timers an event makes moot. Once the action is decided, its reminders, tier escalations
 * and expiry would only wake a worker, when due, to find nothing to do, and wait in Redis until
 * then (at 25 escalations/s and an hour's expiry, some 90,000 delayed jobs). Not for an action
 * that reads pending again by the time the event is dispatched: its timers are its own.
 * Automatic decisions never had timers.
 */
export function timersToCancel(event: GateEvent, action: ActionRecord): JobRequest[] {
  if (event.type !== 'action.decided' || event.automatic || action.status === 'pending') return [];
  return timersFor(action).map((t) => ({ name: t.name, payload: t.payload }) as JobRequest);
}
