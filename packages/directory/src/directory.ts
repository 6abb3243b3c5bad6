import { emailKey, identityOn, NO_CHANNELS, type Actor, type Agent, type ChannelCatalog, type Person, type Principal } from '@countersign/contracts';

/**
 * The directory as the engine reads it: who exists, which roles they hold and how a channel
 * identity (a Slack user id, a Teams AAD object id, …) maps back to a person. Immutable; a
 * reload builds a new one.
 */
export interface Directory {
  /** sha256 hex of the directory file's bytes. */
  readonly digest: string;
  /** Marked `demo: true` (the repository's demo organisation): never decides in production. */
  readonly demo: boolean;
  person(id: string): Person | undefined;
  agent(id: string): Agent | undefined;
  principal(id: string): Principal | undefined;
  /** The actor as policy sees it; undefined for an unknown id (callers refuse). */
  actorOf(id: string): Actor | undefined;
  /**
   * The person whose identity on `channel` has this key (its definition's `identityKey`, e.g.
   * a Slack user id, a lowercased Teams AAD object id).
   */
  personByIdentity(channel: string, key: string): Person | undefined;
  /**
   * The person's chat identities, as `channel:key` (the keys personByIdentity maps from): who
   * clicks in Slack or Teams, whatever their id or email in the directory. [] for an unknown id.
   */
  identitiesOf(id: string): readonly string[];
  /** Case-insensitive. An array so callers can insist on exactly one match. */
  peopleByEmail(email: string): Person[];
  people(): readonly Person[];
  agents(): readonly Agent[];
}

export function buildDirectory(
  digest: string,
  allPeople: readonly Person[],
  allAgents: readonly Agent[],
  channels: ChannelCatalog = NO_CHANNELS,
  demo = false,
): Directory {
  // Frozen: a caller that pushes onto a person's roles must not grant a role to everyone after it.
  const people = allPeople.map((p) => deepFreeze(structuredClone(p)));
  const agents = allAgents.map((a) => deepFreeze(structuredClone(a)));
  const peopleById = new Map(people.map((p) => [p.id, p]));
  const agentsById = new Map(agents.map((a) => [a.id, a]));
  const byIdentity = new Map<string, Map<string, Person>>(channels.names.map((name) => [name, new Map()]));
  const byEmail = new Map<string, Person[]>();
  const identitiesById = new Map<string, readonly string[]>();
  for (const p of people) {
    const identities: string[] = [];
    for (const definition of channels.definitions) {
      const identity = identityOn(definition, p);
      if (identity === undefined) continue;
      const key = definition.identityKey(identity).key;
      byIdentity.get(definition.name)!.set(key, p);
      identities.push(`${definition.name}:${key}`);
    }
    identitiesById.set(p.id, Object.freeze(identities));
    const key = emailKey(p.email);
    byEmail.set(key, [...(byEmail.get(key) ?? []), p]);
  }
  const principals = new Map<string, Principal>();
  for (const a of agents) principals.set(a.id, Object.freeze({ kind: 'agent' as const, ...a }));
  // A person and an agent under one id: the person, as before (people were looked up first).
  for (const p of people) principals.set(p.id, Object.freeze({ kind: 'person' as const, ...p }));
  const frozenPeople = Object.freeze([...people]);
  const frozenAgents = Object.freeze([...agents]);

  return Object.freeze({
    digest,
    demo,
    person: (id: string) => peopleById.get(id),
    identitiesOf: (id: string) => identitiesById.get(id) ?? [],
    agent: (id: string) => agentsById.get(id),
    // Every API request asks (key-service.ts): one frozen principal per entry, made once per
    // snapshot, not a deep copy per call.
    principal: (id: string) => principals.get(id),
    actorOf(id: string): Actor | undefined {
      const person = peopleById.get(id);
      if (person) return { kind: 'person', id: person.id, roles: [...person.roles], owner: null };
      const agent = agentsById.get(id);
      if (agent) return { kind: 'agent', id: agent.id, roles: [...agent.roles], owner: agent.owner };
      return undefined;
    },
    personByIdentity: (channel: string, key: string) => byIdentity.get(channel)?.get(key),
    peopleByEmail: (email: string) => [...(byEmail.get(emailKey(email)) ?? [])],
    people: () => frozenPeople,
    agents: () => frozenAgents,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
