import type { z } from 'zod';
import { DomainError, RequirementSchema, type Agent, type Person, type Principal, type Verdict } from '@countersign/contracts';
import { ReleaseTokenError, signReleaseToken, verifyReleaseToken } from '@countersign/evidence';
import { destinationAllowlist, Gate, KeyService, type Caller, type ConfigView, type DirectoryView, type GateDeps, type PolicyView } from '../../src/index.ts';
import { MemoryGateStore } from './memory-store.ts';

// The real engine (Gate and its use cases) over in-memory ports: a directory the test can
// edit between steps, a policy that answers what the test says, a clock the test moves.

export const T0 = new Date('2030-01-01T09:00:00.000Z');
export const ISSUER = 'https://countersign.test';
export const AUDIENCE = 'deployer';

export class ManualClock {
  constructor(private at: Date = T0) {}
  now = (): Date => new Date(this.at);
  advance(seconds: number): void {
    this.at = new Date(this.at.getTime() + seconds * 1000);
  }
}

export function person(id: string, roles: string[] = []): Person {
  return { id, name: id, email: `${id}@example.com`, roles };
}

/** The organisation's directory as a mutable list: tests revoke roles or remove people mid-flight. */
export class TestDirectory implements DirectoryView {
  digest = 'directory-v1';
  readonly byId = new Map<string, Person>();
  readonly agents = new Map<string, Agent>();

  person(id: string): Person | undefined {
    return this.byId.get(id);
  }
  principal(id: string): Principal | undefined {
    const p = this.byId.get(id);
    if (p) return { kind: 'person', ...p };
    const a = this.agents.get(id);
    return a ? { kind: 'agent', ...a } : undefined;
  }
  actorOf(id: string) {
    const p = this.principal(id);
    if (!p) return undefined;
    return { kind: p.kind, id: p.id, roles: p.roles, owner: p.kind === 'agent' ? p.owner : null };
  }
  addPerson(id: string, roles: string[] = []): Person {
    const p = person(id, roles);
    this.byId.set(id, p);
    return p;
  }
  addAgent(id: string, owner: string, roles: string[] = []): Agent {
    const a: Agent = { id, name: id, owner, roles };
    this.agents.set(id, a);
    return a;
  }
  setRoles(id: string, roles: string[]): void {
    this.byId.get(id)!.roles = roles;
  }
}

/** A policy that answers the verdict the test sets (the policy package has its own tests). */
export class TestPolicy implements PolicyView {
  digest = 'a'.repeat(64);
  verdict: Verdict = { outcome: 'refuse', ruleIds: [], reasons: ['no rule matched'], policyDigest: this.digest };
  evaluate(): Verdict {
    return structuredClone(this.verdict);
  }
}

export interface TestEngine {
  gate: Gate;
  deps: GateDeps;
  store: MemoryGateStore;
  clock: ManualClock;
  directory: TestDirectory;
  policy: TestPolicy;
  keys: KeyService;
  /** A caller holding a fresh, active API key for the principal. */
  callerFor(principalId: string, opts?: { canDelegate?: boolean; delegateFor?: string[] }): Promise<Caller>;
}

export function testEngine(): TestEngine {
  const clock = new ManualClock();
  const store = new MemoryGateStore(undefined, clock.now);
  const directory = new TestDirectory();
  const policy = new TestPolicy();
  const config: ConfigView = { current: () => ({ policy, directory }) };
  const deps: GateDeps = {
    store,
    config,
    clock,
    bus: { subscribe: (actionId, onDecided) => store.onPublished((id) => id === actionId && onDecided()) },
    release: {
      async issue(action) {
        const now = clock.now();
        const token = await signReleaseToken({
          key: store.signingKey, actionId: action.id, intentHash: action.intentHash, audience: AUDIENCE, issuer: ISSUER, ttlSeconds: 300, now,
        });
        return { token, expiresAt: new Date(now.getTime() + 300_000) };
      },
      async verify(token, expect) {
        const keys = new Map([[store.signingKey.keyId, store.signingKey.publicKey]]);
        try {
          const c = await verifyReleaseToken(token, { keys, audience: expect.audience, issuer: ISSUER, now: clock.now(), ...(expect.intentHash ? { intentHash: expect.intentHash } : {}) });
          return { actionId: c.sub, audience: c.aud, tokenId: c.jti, intentHash: c.intent_sha256 };
        } catch (err) {
          if (err instanceof ReleaseTokenError) throw new DomainError('invalid_release_token', err.message, { extra: { reason: err.reason } });
          throw err;
        }
      },
    },
    destinations: destinationAllowlist([]),
  };
  const keys = new KeyService(store, config, clock);
  return {
    gate: new Gate(deps),
    deps,
    store,
    clock,
    directory,
    policy,
    keys,
    async callerFor(principalId, opts = {}) {
      // A delegate key must name whom it acts for; unless a test says, everyone in the directory now.
      const delegateFor = opts.delegateFor ?? (opts.canDelegate ? [...directory.byId.keys()] : undefined);
      const { key } = await keys.create(principalId, { ...opts, ...(delegateFor ? { delegateFor } : {}) });
      return { keyId: key.id, principal: directory.principal(principalId)!, canDelegate: key.canDelegate, delegateFor: key.delegateFor };
    },
  };
}

export type RequirementInput = z.input<typeof RequirementSchema>;

/** Makes the policy escalate with this requirement and submits an intent as `caller`. */
export async function escalate(engine: TestEngine, caller: Caller, requirement: RequirementInput, intent: Record<string, unknown> = {}) {
  engine.policy.verdict = {
    outcome: 'escalate',
    ruleIds: ['prod-delete'],
    reasons: ['production deletes need a second pair of eyes'],
    policyDigest: engine.policy.digest,
    requirement: RequirementSchema.parse(requirement),
  };
  const { view } = await engine.gate.submit({ caller, body: { action: { type: 'environment.delete', resource: 'env/prod' }, ...intent } });
  return view;
}

/** Makes the policy refuse (overridable by `overrideRoles`) and submits an intent as `caller`. */
export async function refuse(engine: TestEngine, caller: Caller, overrideRoles: string[]) {
  engine.policy.verdict = { outcome: 'refuse', ruleIds: ['freeze'], reasons: ['change freeze'], policyDigest: engine.policy.digest, overrideRoles };
  const { view } = await engine.gate.submit({ caller, body: { action: { type: 'environment.delete', resource: 'env/prod' } } });
  return view;
}
