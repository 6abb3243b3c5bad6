import type { Actor, Intent, Person, Principal, Verdict } from '@countersign/contracts';

// What the engine needs from the organisation's files. Read through `current()` at each use so
// that a reloaded directory (a role revoked, a person removed) counts from the next vote on.
export interface DirectoryView {
  digest: string;
  person(id: string): Person | undefined;
  principal(id: string): Principal | undefined;
  actorOf(id: string): Actor | undefined;
}

export interface PolicyView {
  digest: string;
  evaluate(input: { intent: Intent; actor: Actor; now: Date }): Verdict;
}

export interface ConfigSnapshot {
  policy: PolicyView;
  directory: DirectoryView;
}

export interface ConfigView {
  current(): ConfigSnapshot;
}
