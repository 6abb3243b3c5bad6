import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalBinding } from '@countersign/core';
import { setDirectory } from './support/directory-file.ts';
import { startTestService, type TestService } from './support/service.ts';

// Keys follow the directory. An API key authenticates only while its principal is in the
// directory AS THE SAME PRINCIPAL: a person with the email they had when the key was made, an
// agent with the owner it had. Removing the entry ends its keys at once (the directory is read
// on every request, no cache in between); a later entry reusing the id inherits nothing.

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/directory.yaml'), 'utf8');
const JUDY = '  - { id: judy, name: Judy, email: judy@example.com, roles: [security] }\n';
const OWNER_BOT = '  - { id: owner-bot, name: Owner bot, owner: ivan, roles: [] }\n';

let t: TestService;
beforeAll(async () => {
  expect(FIXTURE).toContain(JUDY);
  expect(FIXTURE).toContain(OWNER_BOT);
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});


const status = async (token: string | undefined) => (await t.api('GET', '/v1/actions?limit=1', { token })).status;

describe('keys follow the directory', () => {
  it('a key stops authenticating as soon as its person leaves; a newcomer reusing the id does not inherit it', async () => {
    const judysKey = t.tokens.judy!;
    expect(await status(judysKey)).toBe(200);

    await setDirectory(t, FIXTURE.replace(JUDY, ''));
    expect(await status(judysKey)).toBe(401);

    // Another Judy joins under the same id: the old key is not hers.
    await setDirectory(t, FIXTURE.replace(JUDY, '  - { id: judy, name: Judy Newcomer, email: judy.newcomer@example.com, roles: [security] }\n'));
    expect(await status(judysKey)).toBe(401);
    const hers = await t.service.keys.create('judy');
    expect(await status(hers.token)).toBe(200);
    expect(hers.key.principalBinding).not.toBe((await t.service.keys.find(judysKey.split('_').slice(0, 2).join('_')))!.principalBinding);

    // The original Judy back (same email: the same person): her key is hers again, the
    // newcomer's is not.
    await setDirectory(t, FIXTURE);
    expect(await status(judysKey)).toBe(200);
    expect(await status(hers.token)).toBe(401);
  });

  it("an agent's key is bound to its owner: a new owner means new keys", async () => {
    const key = t.tokens['owner-bot']!;
    expect(await status(key)).toBe(200);
    await setDirectory(t, FIXTURE.replace(OWNER_BOT, '  - { id: owner-bot, name: Owner bot, owner: erin, roles: [] }\n'));
    expect(await status(key)).toBe(401);
    await setDirectory(t, FIXTURE.replace(OWNER_BOT, ''));
    expect(await status(key)).toBe(401);
    await setDirectory(t, FIXTURE);
    expect(await status(key)).toBe(200);
  });

  it('a key made before keys were bound is bound at its first use, then follows the directory', async () => {
    const made = await t.service.keys.create('frank');
    // As a key from before this version: no binding stored.
    await t.prisma.apiKey.update({ where: { id: made.key.id }, data: { principalBinding: null } });
    const fresh = await startTestService({ databaseUrl: t.databaseUrl }); // no cached key row
    try {
      expect((await fresh.api('GET', '/v1/actions?limit=1', { token: made.token })).status).toBe(200);
      const frank = fresh.service.gate.deps.config.current().directory.principal('frank')!;
      expect((await t.prisma.apiKey.findUniqueOrThrow({ where: { id: made.key.id } })).principalBinding).toBe(principalBinding(frank));
    } finally {
      await fresh.stop();
    }
    await setDirectory(t, FIXTURE.replace('email: frank@example.com', 'email: frank.costa@example.com'));
    expect(await status(made.token)).toBe(401);
    await setDirectory(t, FIXTURE);
    expect(await status(made.token)).toBe(200);
  });

  it('the binding ignores what changes without the principal changing: roles, name, email case', async () => {
    const key = t.tokens.bob!;
    await setDirectory(t, FIXTURE.replace('{ id: bob, name: Bob, email: bob@example.com, roles: [security]', '{ id: bob, name: Robert, email: Bob@Example.com, roles: []'));
    expect(await status(key)).toBe(200);
    await setDirectory(t, FIXTURE);
  });
});
