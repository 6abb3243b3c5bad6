import { describe, expect, it } from 'vitest';
import type { ArtifactBody } from '@countersign/contracts';
import { org } from './support/org.ts';

describe('submit', () => {
  it('refuses (fail closed) when the policy escalates without a requirement, with the reason sealed', async () => {
    const e = org();
    e.policy.verdict = { outcome: 'escalate', ruleIds: ['broken-rule'], reasons: ['needs a look'], policyDigest: e.policy.digest };
    const caller = await e.callerFor('deploy-bot');
    const { view } = await e.gate.submit({ caller, body: { action: { type: 'environment.delete', resource: 'env/prod' } } });

    const reasons = ['needs a look', 'escalated without an approval requirement: refused (fail closed)'];
    expect(view).toMatchObject({ status: 'refused', verdict: 'refuse', reasons, decidedBy: 'policy' });
    expect(view.requirement).toBeUndefined();
    expect(view.expiresAt).toBeUndefined();
    expect(view.overridable).toBeUndefined();
    // Sealed like any policy refusal: the evidence says why nobody was asked.
    const body = JSON.parse(view.artifact!.canonical) as ArtifactBody;
    expect(body.event).toMatchObject({ kind: 'action.decided', status: 'refused', ruleIds: ['broken-rule'], reasons });
    expect(await e.store.findAction(view.id)).toMatchObject({ status: 'refused', requirement: null });
  });
});
