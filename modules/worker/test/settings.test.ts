import { describe, expect, it } from 'vitest';
import { parseWorkerSettings } from '../src/settings.ts';

describe('worker settings', () => {
  it('pacing names only the channels it overrides (their defaults are their definitions\', test/pacing.test.ts)', () => {
    expect(parseWorkerSettings({}).COUNTERSIGN_CHANNEL_PACING_MS).toEqual({});
    expect(parseWorkerSettings({}).COUNTERSIGN_PACE_UPDATES).toBeUndefined();
    expect(parseWorkerSettings({ COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0,teams=2000' }).COUNTERSIGN_CHANNEL_PACING_MS).toEqual({ slack: 0, teams: 2000 });
  });
  it('refuses a malformed pacing value, naming the variable', () => {
    expect(() => parseWorkerSettings({ COUNTERSIGN_CHANNEL_PACING_MS: 'slack:100' })).toThrow(/COUNTERSIGN_CHANNEL_PACING_MS/);
  });
});
