import { describe, expect, it } from 'vitest';
import { misspeltVariablesError, SettingsError, strayVariables } from '../src/env.ts';

// A misspelt setting is otherwise silently ignored, and some fail open that way:
// COUNTERSIGN_METRICS_TOKNE leaves /metrics without its token.
const KNOWN = ['COUNTERSIGN_METRICS_TOKEN', 'COUNTERSIGN_METRICS_PORT', 'COUNTERSIGN_SKIP_MIGRATIONS', 'COUNTERSIGN_ROLE'];
const OPTIONS = { prefix: 'COUNTERSIGN_', families: ['COUNTERSIGN_EXECUTOR_SECRET_'] };

describe('strayVariables', () => {
  it('finds near misses of known settings, with the name meant', () => {
    const env = {
      COUNTERSIGN_METRICS_TOKNE: 'a-secret-that-must-never-be-echoed-0000', // swapped letters
      COUNTERSIGN_SKIP_MIGRATION: '1', // one letter short
      countersign_role: 'api', // letter case
      COUNTERSIGN_METRICS_TOKEN: 'x'.repeat(32),
      PATH: '/usr/bin',
    };
    expect(strayVariables(env, KNOWN, OPTIONS)).toEqual([
      { name: 'COUNTERSIGN_METRICS_TOKNE', suggestion: 'COUNTERSIGN_METRICS_TOKEN' },
      { name: 'COUNTERSIGN_SKIP_MIGRATION', suggestion: 'COUNTERSIGN_SKIP_MIGRATIONS' },
      { name: 'countersign_role', suggestion: 'COUNTERSIGN_ROLE' },
    ]);
  });

  it('lists names far from any setting without a suggestion, and leaves open-ended families alone', () => {
    const env = { COUNTERSIGN_TOKEN: 'cs_client_key', COUNTERSIGN_EXECUTOR_SECRET_BILLING: 's', COUNTERSIGN_EXECUTOR_SECRET_: 's' };
    expect(strayVariables(env, KNOWN, OPTIONS)).toEqual([{ name: 'COUNTERSIGN_EXECUTOR_SECRET_' }, { name: 'COUNTERSIGN_TOKEN' }]);
    expect(strayVariables({ COUNTERSIGN_ROLE: 'api', OTHER: 'x' }, KNOWN, OPTIONS)).toEqual([]);
  });

  it('stops on near misses with a SettingsError naming each, never the value', () => {
    const secret = 'a-secret-that-must-never-be-echoed-0000';
    const err = misspeltVariablesError(strayVariables({ COUNTERSIGN_METRICS_TOKNE: secret, COUNTERSIGN_TOKEN: 'cs_x' }, KNOWN, OPTIONS));
    expect(err).toBeInstanceOf(SettingsError);
    expect(err!.message).toContain('COUNTERSIGN_METRICS_TOKNE');
    expect(err!.message).toContain('did you mean COUNTERSIGN_METRICS_TOKEN?');
    expect(err!.message).not.toContain(secret);
    expect(err!.message).not.toMatch(/\bCOUNTERSIGN_TOKEN\b/);
    expect(misspeltVariablesError(strayVariables({ COUNTERSIGN_TOKEN: 'cs_x' }, KNOWN, OPTIONS))).toBeUndefined();
  });
});
