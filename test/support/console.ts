import type { Browser } from 'puppeteer-core';
import { consoleModule } from '@countersign/console';
import { intents, startTestService, type TestService } from './service.ts';

// The people of test/fixtures/directory.yaml without chat identities (the console needs none).
export const CONSOLE_DIRECTORY = `version: 1
people:
  - { id: alice, name: Alice Martin, email: alice@example.com, roles: [sre-lead] }
  - { id: bob, name: Bob Okafor, email: bob@example.com, roles: [security] }
  - { id: carol, name: Carol Nguyen, email: carol@example.com, roles: [sre-lead, security] }
  - { id: dave, name: Dave Ruiz, email: dave@example.com, roles: [cto] }
  - { id: erin, name: Erin Schmidt, email: erin@example.com, roles: [developer, sre-lead] }
  - { id: grace, name: Grace Park, email: grace@example.com, roles: [auditor] }
  - { id: ivan, name: Ivan Petrov, email: ivan@example.com, roles: [sre-lead] }
  - { id: judy, name: Judy Kim, email: judy@example.com, roles: [security] }
agents:
  - { id: deploy-bot, name: Deploy bot, owner: erin, roles: [deployer] }
`;

/** A test service with the console and the embedded development identity provider. */
export function startConsoleService(env: Record<string, string> = {}): Promise<TestService> {
  return startTestService({ modules: [consoleModule], directory: CONSOLE_DIRECTORY, env: { COUNTERSIGN_OIDC_DEV: '1', COUNTERSIGN_POLICY: 'policy.yaml', ...env } });
}

/** deploy-bot asks to delete production: sre-lead + security, owner erin. */
export async function submitProdDelete(t: TestService, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/actions', { token: t.tokens['deploy-bot'], body: { ...intents.prodDelete, ...overrides } });
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${res.text}`);
  return res.body.id as string;
}

export async function closeAll(browser: Browser | undefined, t: TestService | undefined): Promise<void> {
  await browser?.close();
  await t?.stop();
}
