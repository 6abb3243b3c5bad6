import { describe, expect, it } from 'vitest';
import { ChannelCatalog } from '@countersign/contracts';
import { loadDirectory } from '@countersign/directory';
import { teamsChannel } from '../src/definition.ts';
import { identifyClicker, MESSAGES, teamsDirectory, type RosterMember } from '../src/identity.ts';

const TENANT = '0b9f6d2e-3c4a-4b5d-9e8f-7a6b5c4d3e2f';
const directory = teamsDirectory(loadDirectory(
  `version: 1
people:
  - { id: alice, name: Alice, email: alice@example.com, teams: { aadObjectId: 11111111-1111-4111-8111-111111111111 } }
  - { id: carol, name: Carol, email: carol@example.com }
  - { id: ivan, name: Ivan, email: ivan@example.com, teams: { aadObjectId: 99999999-9999-4999-8999-999999999999 } }
  - { id: upn, name: Upn, email: upn.person@example.com }
`,
  'directory.yaml',
  { channels: new ChannelCatalog([teamsChannel]) },
));

function activity(aad: string | undefined, tenant = TENANT) {
  return { channelId: 'msteams', from: { id: '29:x', aadObjectId: aad }, conversation: { id: 'c', tenantId: tenant }, channelData: { tenant: { id: tenant } } } as never;
}
const id = (aad: string | undefined, member: RosterMember | null | Error, tenant = TENANT) => {
  let asked = 0;
  const result = identifyClicker({
    activity: activity(aad, tenant),
    tenantId: TENANT,
    directory,
    roster: async () => {
      asked++;
      if (member instanceof Error) throw member;
      return member;
    },
  });
  return result.then((r) => ({ r, asked }));
};

describe('identifyClicker', () => {
  it('finds a pinned Teams id without asking the roster (ids in any case)', async () => {
    const { r, asked } = await id('11111111-1111-4111-8111-111111111111'.toUpperCase(), null);
    expect(r).toMatchObject({ person: { id: 'alice' } });
    expect(asked).toBe(0);
  });

  it('else maps the roster email or UPN to exactly one person', async () => {
    const aad = '33333333-3333-4333-8333-333333333333';
    expect((await id(aad, { tenantId: TENANT, aadObjectId: aad, email: 'CAROL@example.com' })).r).toMatchObject({ person: { id: 'carol' } });
    expect((await id(aad, { tenantId: TENANT, aadObjectId: aad, userPrincipalName: 'upn.person@example.com' })).r).toMatchObject({ person: { id: 'upn' } });
  });

  it('refuses another tenant before anything else', async () => {
    const { r, asked } = await id('11111111-1111-4111-8111-111111111111', null, '00000000-0000-4000-8000-000000000000');
    expect(r).toEqual({ refused: MESSAGES.wrongTenant, code: 'wrong_tenant' });
    expect(asked).toBe(0);
  });

  it('refuses when in doubt: no id, not in the roster, roster for someone else, ambiguous, pinned elsewhere, roster down', async () => {
    const aad = '44444444-4444-4444-8444-444444444444';
    expect((await id(undefined, null)).r).toMatchObject({ code: 'unknown_identity' });
    expect((await id(aad, null)).r).toMatchObject({ refused: MESSAGES.unknown });
    expect((await id(aad, { tenantId: TENANT, aadObjectId: '55555555-5555-4555-8555-555555555555', email: 'carol@example.com' })).r).toMatchObject({ refused: MESSAGES.unknown });
    expect((await id(aad, { tenantId: TENANT, aadObjectId: aad, email: 'nobody@example.com' })).r).toMatchObject({ refused: MESSAGES.unknown });
    expect((await id(aad, { tenantId: TENANT, aadObjectId: aad, email: 'carol@example.com', userPrincipalName: 'upn.person@example.com' })).r).toMatchObject({ code: 'ambiguous_identity' });
    expect((await id(aad, { tenantId: TENANT, aadObjectId: aad, email: 'ivan@example.com' })).r).toMatchObject({ refused: MESSAGES.unknown });
    expect((await id(aad, { aadObjectId: aad, email: 'carol@example.com', tenantId: '00000000-0000-4000-8000-000000000000' })).r).toMatchObject({ code: 'wrong_tenant' });
    expect((await id(aad, new Error('connector down'))).r).toMatchObject({ refused: MESSAGES.rosterFailed });
  });

  it('never maps a guest or a member naming no tenant by email or UPN', async () => {
    const aad = '66666666-6666-4666-8666-666666666666';
    const carol = { aadObjectId: aad, email: 'carol@example.com' };
    expect((await id(aad, { ...carol, tenantId: TENANT, userRole: 'user' })).r).toMatchObject({ person: { id: 'carol' } });
    expect((await id(aad, { ...carol, tenantId: TENANT, userRole: 'guest' })).r).toEqual({ refused: MESSAGES.guest, code: 'unknown_identity' });
    expect((await id(aad, { ...carol, tenantId: TENANT, userRole: 'anonymous' })).r).toEqual({ refused: MESSAGES.guest, code: 'unknown_identity' });
    expect((await id(aad, { ...carol, tenantId: TENANT, userPrincipalName: 'carol_example.com#EXT#@contoso.onmicrosoft.com' })).r).toMatchObject({ refused: MESSAGES.guest });
    expect((await id(aad, carol)).r).toMatchObject({ code: 'wrong_tenant' });
  });
});
