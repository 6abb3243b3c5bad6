import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './fakes/fake-channel.ts';
import { intents, startTestService, type TestService } from './support/service.ts';

// Review s14 b: an override was judged by the override roles stored with the refusal, at any
// later time. After the policy owner made the rule final (no override), a 90-day-old refusal
// was still overridden and released. An override is now judged only while the policy that
// refused is in force; after a change the request is submitted again and judged afresh.

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

const policyDigest = () => t.service.gate.deps.config.current().policy.digest;

/** Writes the policy file and waits until the service decides under it (its change sealed). */
async function replacePolicy(text: string): Promise<void> {
  const before = policyDigest();
  fs.writeFileSync(path.join(t.configDir, 'policy.yaml'), text);
  await waitFor('the new policy in force', () => policyDigest() !== before);
}

describe('an override after the policy changed', () => {
  it('is refused (not_overridable, saying why); a refusal under the policy in force is overridden as before', async () => {
    const file = path.join(t.configDir, 'policy.yaml');
    const original = fs.readFileSync(file, 'utf8');
    const { body: old } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.piiExport });
    expect(old).toMatchObject({ status: 'refused', overridable: { roles: ['cto'] } });

    // The policy owner makes the PII rule final: no override any more.
    const final = original.replace(/^(\s*)override: \{ roles: \[cto\] \}\n/m, '');
    expect(final).not.toBe(original);
    await replacePolicy(final);
    const { body: now } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.piiExport });
    expect(now.status).toBe('refused');
    expect(now.overridable).toBeUndefined();

    const stale = await t.api('POST', `/v1/actions/${old.id}/override`, { token: t.tokens.dave, body: { reason: 'regulator request REF-42' } });
    expect(stale.status).toBe(403);
    expect(stale.body.code).toBe('not_overridable');
    expect(stale.body.detail ?? stale.body.message ?? JSON.stringify(stale.body)).toMatch(/policy has changed/);
    const read = await t.api('GET', `/v1/actions/${old.id}`, { token: t.tokens['deploy-bot'] });
    expect(read.body.status).toBe('refused');
    expect(read.body.releaseToken).toBeUndefined();
    expect(await t.prisma.artifact.count({ where: { kind: 'action.overridden' } })).toBe(0);

    // Any change counts, even one that keeps the override: the rules that refused are no longer
    // the ones in force. A refusal made under the policy in force is overridable as before.
    await replacePolicy(original + '\n# reviewed 2026-12-06\n');
    const { body: fresh } = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: intents.piiExport });
    expect(fresh).toMatchObject({ status: 'refused', overridable: { roles: ['cto'] } });
    expect((await t.api('POST', `/v1/actions/${old.id}/override`, { token: t.tokens.dave, body: { reason: 'again' } })).body.code).toBe('not_overridable');
    const ok = await t.api('POST', `/v1/actions/${fresh.id}/override`, { token: t.tokens.dave, body: { reason: 'regulator request REF-43' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', override: { by: 'dave' } });
  });
});
