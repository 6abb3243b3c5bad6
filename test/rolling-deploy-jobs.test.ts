import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TraceContextSchema } from '@countersign/contracts';
import type { ActionRecord } from '@countersign/core';
import { jobsForEvent } from '@countersign/worker';

// A decision's jobs during a rolling deploy (review finding on c255f82, which first put
// `notify: true` in the update-cards payload): workers run as a RollingUpdate with 2 replicas
// (infra/k8s/base/worker-deployment.yaml), so during a rollout a worker of the previous
// release consumes jobs planned by the new dispatcher. That worker checks payloads with the
// previous catalog, whose update-cards schema is a strict {actionId, trace}: a payload it does
// not know fails the job for good and leaves the cards with live buttons. Every job planned for
// a decision must therefore still parse with the previous catalog.

/** The update-cards / notify-requester payload schema of the release before c255f82 (catalog.ts OneAction). */
const PREVIOUS_RELEASE: Record<string, z.ZodType> = {
  'update-cards': z.strictObject({ actionId: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/), trace: TraceContextSchema.optional() }),
  'notify-requester': z.strictObject({ actionId: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/), trace: TraceContextSchema.optional() }),
};

const action = {
  id: 'act_1', status: 'refused', outcome: 'escalate', actorId: 'deploy-bot', actorKind: 'agent', ownerId: 'erin', onBehalfOf: 'ivan',
  intent: { action: { type: 'x' } }, requirement: null,
} as unknown as ActionRecord;

describe('review: a decision\'s jobs during a rolling deploy', () => {
  it('every card/notice job planned for a decision can be consumed by a worker one release behind', () => {
    const decided = { type: 'action.decided' as const, actionId: 'act_1', status: 'refused' as const, automatic: false, override: false };
    const jobs = jobsForEvent(decided, '42', action, new Date());
    const refused = jobs
      .filter((j) => j.name in PREVIOUS_RELEASE)
      .filter((j) => !PREVIOUS_RELEASE[j.name]!.safeParse(j.payload).success)
      .map((j) => `${j.name} ${JSON.stringify(j.payload)}`);
    expect(refused).toEqual([]);
  });
});
