import { describe, expect, it } from 'vitest';
import { TEAMS_DEV_MODE_WARNING, TEAMS_OFF_LINE, teamsFirstScreenLines } from '../src/module.ts';

// The service's first screen says what the Teams module will do, from the same parsed
// settings: it must never say "off" while development mode (any accepted spelling) is on.

const APP = '6f1c2a3e-1b2d-4c5e-8f90-0a1b2c3d4e00';
const TENANT = '0b9f6d2e-3c4a-4b5d-9e8f-7a6b5c4d3e2f';

describe('teamsFirstScreenLines', () => {
  it('says Teams is off, and how to turn it on, when nothing is set', () => {
    expect(teamsFirstScreenLines({})).toEqual([TEAMS_OFF_LINE]);
    expect(TEAMS_OFF_LINE).toContain('Teams: off (set MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID; see README)');
    expect(teamsFirstScreenLines({ TEAMS_DEV_MODE: 'false' })).toEqual([TEAMS_OFF_LINE]);
  });

  it.each(['1', 'true'])('shows only the development-mode warning for TEAMS_DEV_MODE=%s', (flag) => {
    const lines = teamsFirstScreenLines({ TEAMS_DEV_MODE: flag, MICROSOFT_APP_TENANT_ID: TENANT });
    expect(lines).toEqual([`  !! ${TEAMS_DEV_MODE_WARNING}`]);
  });

  it('names the bot endpoint when credentials are set', () => {
    const lines = teamsFirstScreenLines({ MICROSOFT_APP_ID: APP, MICROSOFT_APP_PASSWORD: 'pw', MICROSOFT_APP_TENANT_ID: TENANT });
    expect(lines).toEqual([`  Teams: bot endpoint $CS/api/messages (app ${APP}, tenant ${TENANT})`]);
    expect(lines.join('\n')).not.toContain('pw');
  });

  it('prints nothing for a bad configuration (the module stops the service with the reason)', () => {
    expect(teamsFirstScreenLines({ MICROSOFT_APP_PASSWORD: 'pw' })).toEqual([]);
  });
});
