import { describe, expect, it } from 'vitest';
import { firstScreen } from '../src/first-screen.ts';

// The first screen names the policy and directory in force: with COUNTERSIGN_POLICY or
// COUNTERSIGN_DIRECTORY pointing elsewhere, naming the demo files would send a newcomer to edit
// files the service does not read.

describe('first screen', () => {
  const base = { url: 'http://127.0.0.1:8080', demo: [], embedded: true };

  it('names the demo files by default', () => {
    expect(firstScreen(base)).toContain('policy: config/policy.yaml · directory: config/directory.yaml');
  });

  it('names the files in force', () => {
    const shown = firstScreen({ ...base, policyFile: '/etc/countersign/policy.yaml', directoryFile: 'ops/people.yaml' });
    expect(shown).toContain('policy: /etc/countersign/policy.yaml · directory: ops/people.yaml');
    expect(shown).not.toContain('config/policy.yaml');
  });
});
