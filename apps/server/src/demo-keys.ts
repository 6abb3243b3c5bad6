import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '@countersign/contracts';
import type { KeyService } from '@countersign/core';

// Demo keys exist only for `npm start` on embedded defaults: so the first screen can show
// working keys every time, their tokens are kept in .countersign/demo-keys.json (mode 0600,
// git-ignored). Production keys are created with `countersign keys create` and shown once.

export interface DemoKey {
  principal: string;
  token: string;
  note: string;
}

const DEMO: { principal: string; delegate: boolean; delegateFor?: string[]; note: string }[] = [
  { principal: 'deploy-bot', delegate: true, delegateFor: ['role:developer'], note: 'agent that submits intents (owner: erin); may act for developers' },
  { principal: 'alice', delegate: false, note: 'sre-lead: approves production changes' },
  { principal: 'bob', delegate: false, note: 'security: the second approver' },
  { principal: 'carol', delegate: false, note: 'sre-lead AND security: still only one slot' },
  { principal: 'dave', delegate: false, note: 'cto: may override refused data exports' },
  { principal: 'erin', delegate: false, note: "the agent's owner: may not approve its requests" },
  { principal: 'grace', delegate: false, note: 'auditor: may export the approval history' },
];

export async function ensureDemoKeys(keys: KeyService, stateDir: string): Promise<DemoKey[]> {
  const file = path.join(stateDir, 'demo-keys.json');
  let saved: DemoKey[] = [];
  if (fs.existsSync(file)) saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoKey[];
  const out: DemoKey[] = [];
  for (const demo of DEMO) {
    const existing = saved.find((k) => k.principal === demo.principal);
    // A saved token that no longer authenticates (database reset, key revoked) is replaced.
    const caller = existing ? await keys.authenticate(existing.token) : undefined;
    // A delegate key saved before delegation scopes acts for nobody: replaced like a dead one.
    if (existing && caller && !(demo.delegate && caller.delegateFor.length === 0)) {
      out.push(existing);
      continue;
    }
    try {
      const { token } = await keys.create(demo.principal, { canDelegate: demo.delegate, ...(demo.delegateFor ? { delegateFor: demo.delegateFor } : {}), label: 'demo (npm start)' });
      out.push({ principal: demo.principal, token, note: demo.note });
    } catch (err) {
      // The demo directory may have been edited to drop this person: no key, no line.
      if (err instanceof DomainError && err.code === 'unknown_principal') continue;
      throw err;
    }
  }
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n', { mode: 0o600 });
  return out;
}
