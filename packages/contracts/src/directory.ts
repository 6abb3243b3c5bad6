import { z } from 'zod';

// The directory: who exists and which roles they hold. Owned by the organisation as a YAML
// file in git; re-read at vote time so a revoked role stops counting immediately.
/** Who decided when no person did: countersign's policy, or countersign itself (expiry, a party changed). */
export const RESERVED_IDS: readonly string[] = ['policy', 'system'];
/** The shape of an id, for what may also name policy or system (a search's `decidedBy`). */
export const IdPatternSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'ids are lowercase letters, digits, ".", "_" or "-"');
/** A directory id: the shape, and none of countersign's own. */
export const IdSchema = IdPatternSchema
  // A person under one of these would be shown, searched and exported as deciding what
  // countersign decided itself (review s16 c, 2).
  .refine((id) => !RESERVED_IDS.includes(id), { message: `ids ${RESERVED_IDS.map((r) => `"${r}"`).join(' and ')} are countersign's own` });
export const RoleSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:-]{0,99}$/, 'roles are lowercase letters, digits, ".", "_", ":" or "-"');

/** What every person has, whatever channels are installed. */
export const PersonFieldsSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1).max(200),
  email: z.email(),
  roles: z.array(RoleSchema).default([]),
});

/**
 * A person, with their identity on each channel under the channel's name (`slack: {userId}`,
 * `teams: {aadObjectId}`, …). The directory loader checks those against the installed
 * channels' schemas (ChannelCatalog); read one with `identityOn(definition, person)`.
 */
export const PersonSchema = PersonFieldsSchema.catchall(z.unknown());

export const AgentSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1).max(200),
  /** The person accountable for the agent; never counts as an independent approver by default. */
  owner: IdSchema,
  roles: z.array(RoleSchema).default([]),
});

export const DirectoryFileSchema = z.strictObject({
  version: z.literal(1),
  people: z.array(PersonSchema).default([]),
  agents: z.array(AgentSchema).default([]),
});

export type Person = z.output<typeof PersonSchema>;
export type Agent = z.output<typeof AgentSchema>;
export type DirectoryFile = z.output<typeof DirectoryFileSchema>;

export type Principal =
  | ({ kind: 'person' } & Person)
  | ({ kind: 'agent' } & Agent);

/** The actor as policy sees it (SPEC: kind, roles, owner). */
export interface Actor {
  kind: 'person' | 'agent';
  id: string;
  roles: string[];
  owner: string | null;
}

/**
 * An email address as identities are compared: trimmed, ASCII letters lower-cased, nothing
 * else folded. `toLowerCase()` would fold more than mail systems do (the Kelvin sign U+212A
 * lower-cases to "k", so "\u212Aate@" would match kate@), letting a verified address that is
 * not kate's sign in, vote or keep kate's keys as her.
 */
export function emailKey(email: string): string {
  return email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}
