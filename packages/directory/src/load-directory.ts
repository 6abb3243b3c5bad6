import { AgentSchema, emailKey, NO_CHANNELS, PersonFieldsSchema, type ChannelCatalog, type Person } from '@countersign/contracts';
import { z } from 'zod';
import { contentDigest } from './digest.ts';
import { buildDirectory } from './directory.ts';
import type { Directory } from './directory.ts';
import { parseYamlWithSchema } from './yaml-config.ts';

export interface DirectoryLoadOptions {
  /** The installed channels: a person may carry an identity for these, and only these. */
  channels?: ChannelCatalog;
}

/**
 * The directory file as the installed channels allow it: each person's fields, plus an
 * optional identity per channel, validated by that channel's schema. A key no channel defines
 * is an unknown key like any other (fail closed).
 */
export function directoryFileSchema(channels: ChannelCatalog) {
  // Built from the catalog at run time: the type checker sees a Person (fields + identities).
  const person = PersonFieldsSchema.extend(channels.identityShape()) as unknown as z.ZodType<Person>;
  return z.strictObject({
    version: z.literal(1),
    /** The repository's demo directory says so: the service refuses it with NODE_ENV=production. */
    demo: z.boolean().default(false),
    people: z.array(person).default([]),
    agents: z.array(AgentSchema).default([]),
  });
}

/**
 * Parse and check a directory file. Beyond the schema, identities must be unambiguous: a vote
 * maps a channel identity to exactly one person, so two people sharing a channel identity or
 * an email would let one of them vote as the other. Throws ConfigError.
 */
export function loadDirectory(text: string, fileName: string, options: DirectoryLoadOptions = {}): Directory {
  const channels = options.channels ?? NO_CHANNELS;
  const parsed = parseYamlWithSchema(text, fileName, directoryFileSchema(channels));
  const { people, agents } = parsed.value;

  const seenIds = new Map<string, string>();
  const claim = (id: string, path: (string | number)[]) => {
    const first = seenIds.get(id);
    if (first) throw parsed.errorAt(path, `duplicate id "${id}" (already used at ${first})`);
    const { line, column } = parsed.locate(path);
    seenIds.set(id, `line ${line}, column ${column}`);
  };
  people.forEach((p, i) => claim(p.id, ['people', i, 'id']));
  agents.forEach((a, i) => claim(a.id, ['agents', i, 'id']));

  const unique = (label: string, key: string, path: readonly (string | number)[], seen: Map<string, string>) => {
    const first = seen.get(key);
    if (first) throw parsed.errorAt(path, `${label} is also used by person "${first}"; each must map to exactly one person`);
  };
  const identities = new Map(channels.names.map((name) => [name, new Map<string, string>()]));
  const email = new Map<string, string>();
  people.forEach((p, i) => {
    for (const definition of channels.definitions) {
      const identity = p[definition.name];
      if (identity === undefined) continue;
      const { key, path, label } = definition.identityKey(identity);
      const seen = identities.get(definition.name)!;
      unique(label, key, ['people', i, definition.name, ...path], seen);
      seen.set(key, p.id);
    }
    const key = emailKey(p.email);
    unique(`email ${p.email}`, key, ['people', i, 'email'], email);
    email.set(key, p.id);
  });

  const personIds = new Set(people.map((p) => p.id));
  agents.forEach((a, i) => {
    // An agent owned by another agent (or nobody) has no accountable human: refuse to load.
    if (!personIds.has(a.owner)) {
      throw parsed.errorAt(['agents', i, 'owner'], `agent "${a.id}" has owner "${a.owner}", which is not a person in this directory`);
    }
  });

  return buildDirectory(contentDigest(text), people, agents, channels, parsed.value.demo);
}
