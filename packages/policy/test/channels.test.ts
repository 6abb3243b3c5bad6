import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChannelCatalog, type ChannelDefinition } from '@countersign/contracts';
import { ConfigError, loadPolicy } from '../src/index.ts';
import { policyText } from './helpers.ts';

// Which channels a rule may name comes from the installed channels, and each checks its own
// places: the policy package names none of them.

const pager: ChannelDefinition<string> = {
  name: 'pager',
  // Escalation policies are written P + six characters.
  hints: z.array(z.string().regex(/^P[A-Z0-9]{6}$/, 'pager places are escalation policy ids (P + 6 characters)')),
  identity: z.string(),
  identityKey: (id) => ({ key: id, path: [], label: id }),
};
const channels = new ChannelCatalog([pager]);

const rule = (hints: string) => `  - id: paged
    when: 'true'
    outcome: escalate
    reason: page someone
    requirement:
      approvers: [{ role: sre-lead }]
      expiresIn: 10m
      channels: ${hints}
`;

function loadError(text: string, catalog = channels): ConfigError {
  try {
    loadPolicy(text, 'policy.yaml', { channels: catalog });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('channels in rules', () => {
  it("an installed channel's places, in the rule and in its tiers, reach the requirement", () => {
    const p = loadPolicy(policyText(rule('{ pager: [PABC123], tiers: [{ after: 5m, pager: [PXYZ789] }] }')), 'policy.yaml', { channels });
    expect(p.rules[0]!.requirement!.channels).toEqual({ pager: ['PABC123'], people: [], reminders: [], tiers: [{ afterSeconds: 300, pager: ['PXYZ789'], people: [] }] });
  });

  it('a channel the process has not installed is an unknown key at its line (fail closed)', () => {
    const err = loadError(policyText(rule('{ slack: ["#ops"] }')));
    expect({ line: err.line, reason: err.reason }).toEqual({ line: 10, reason: expect.stringMatching(/rules\[0\]\.requirement\.channels\.slack: unknown key/) });
    expect(loadError(policyText(rule('{ tiers: [{ after: 5m, email: [ops@example.com] }] }'))).reason).toMatch(/tiers\[0\]\.email: unknown key/);
  });

  it("places are checked by their channel's own schema", () => {
    expect(loadError(policyText(rule('{ pager: [oncall] }'))).reason).toMatch(/channels\.pager\[0\]: pager places are escalation policy ids/);
  });

  it('a channel named outside the rules is refused when the catalog is built, in a plain error that says why', () => {
    const built = (name: string) => {
      try {
        new ChannelCatalog([{ ...pager, name }]);
        return null;
      } catch (err) {
        return err as Error;
      }
    };
    for (const name of ['Pager', 'pager_2', '2pager', '', 'p'.repeat(33)]) {
      const err = built(name);
      expect(err, name).toBeInstanceOf(Error);
      expect(err!.name, name).toBe('Error');
      expect(err!.message).toBe(`channel name ${JSON.stringify(name)}: channel names are lowercase letters, digits and "-"`);
    }
    expect(built('pager-2')).toBeNull();
  });

  it('without installed channels only people, reminders and tiers are allowed', () => {
    const p = loadPolicy(policyText(rule('{ people: [alice], reminders: [5m] }')), 'policy.yaml');
    expect(p.rules[0]!.requirement!.channels).toEqual({ people: ['alice'], reminders: [300], tiers: [] });
    expect(loadError(policyText(rule('{ pager: [PABC123] }')), new ChannelCatalog([])).reason).toMatch(/pager: unknown key/);
  });
});
