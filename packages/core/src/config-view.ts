import type { Actor, Intent, Person, Principal, Verdict } from '@countersign/contracts';

// What the engine needs from the organisation's files. Read through `current()` at each use so
// that a reloaded directory (a role revoked, a person removed) counts from the next vote on.
export interface DirectoryView {
  digest: string;
  person(id: string): Person | undefined;
  principal(id: string): Principal | undefined;
  /** The person's chat identities (`channel:key`), bound with the email (personBindings). */
  identitiesOf?(id: string): readonly string[];
  actorOf(id: string): Actor | undefined;
  /** Everyone in the directory (a party renamed since submission is found by their binding). */
  people?(): readonly Person[];
}

export interface PolicyView {
  digest: string;
  evaluate(input: { intent: Intent; actor: Actor; now: Date }): Verdict;
}

/**
 * The policy and directory in force together, replaced whole and never mutated. The one
 * snapshot type: the engine reads it through the views; `@countersign/config` loads it with
 * the files' full types (`ConfigSnapshot<LoadedPolicy, Directory>`), no adapter in between.
 */
export interface ConfigSnapshot<P extends PolicyView = PolicyView, D extends DirectoryView = DirectoryView> {
  policy: P;
  directory: D;
}

export interface ConfigView {
  current(): ConfigSnapshot;
}
