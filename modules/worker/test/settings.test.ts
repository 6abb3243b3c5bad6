import { describe, expect, it } from 'vitest';
import { parseWorkerSettings } from '../src/settings.ts';

describe('worker settings', () => {
  it('naming one channel pacing keeps the defaults of the others', () => {
    expect(parseWorkerSettings({}).COUNTERSIGN_CHANNEL_PACING_MS).toEqual({ slack: 1000, teams: 1000 });
    expect(parseWorkerSettings({ COUNTERSIGN_CHANNEL_PACING_MS: 'teams=2000' }).COUNTERSIGN_CHANNEL_PACING_MS).toEqual({ slack: 1000, teams: 2000 });
    expect(parseWorkerSettings({ COUNTERSIGN_CHANNEL_PACING_MS: 'slack=0,teams=0' }).COUNTERSIGN_CHANNEL_PACING_MS).toEqual({ slack: 0, teams: 0 });
  });
  it('refuses a malformed pacing value, naming the variable', () => {
    expect(() => parseWorkerSettings({ COUNTERSIGN_CHANNEL_PACING_MS: 'slack:100' })).toThrow(/COUNTERSIGN_CHANNEL_PACING_MS/);
  });
});
