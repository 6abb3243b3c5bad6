import { z } from 'zod';
import { ChannelNameSchema } from './channel-name.ts';

// Channels are plug-ins (Slack, Teams, e-mail, paging…). Each one defines here what the
// organisation's files may say about it: where a rule asks (`channels: { <name>: [...] }` in the
// policy) and who a person is on it (`<name>: {...}` in the directory). The catalog of the
// channels a process has installed is built once, before the files are loaded, so a key that
// no installed channel defines is a load error (fail closed), while shared code names none.

export { ChannelNameSchema } from './channel-name.ts';

/** Places to ask as a rule lists them (a Slack "#channel", a Teams conversation id…). */
export const PlacesSchema = z.array(z.string().min(1));

/** The value that names one person on a channel: unique in the directory; what votes are looked up by. */
export interface IdentityKey {
  /** Normalised as lookups pass it (e.g. lowercase for case-insensitive ids). */
  key: string;
  /** Where the key sits inside the identity object, to point a load error at it. */
  path: readonly (string | number)[];
  /** How it reads in an error: "Slack user id U0ALICE01". */
  label: string;
}

export interface ChannelDefinition<Identity = unknown> {
  readonly name: string;
  /** A rule's `channels.<name>` (and each tier's): where to ask. Its output is always places. */
  readonly hints: z.ZodType<string[]>;
  /** A person's `<name>` entry in the directory. */
  readonly identity: z.ZodType<Identity>;
  identityKey(identity: Identity): IdentityKey;
  /**
   * How the queue paces messages to one place of this channel, unless the environment says
   * otherwise (COUNTERSIGN_CHANNEL_PACING_MS, COUNTERSIGN_PACE_UPDATES): the minimum
   * milliseconds between two posts, and whether card updates take the same turn.
   */
  readonly pacing?: { intervalMs: number; updates: boolean };
}

/** Any channel's definition, whatever its identity type (lists of installed channels). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyChannelDefinition = ChannelDefinition<any>;

/** Keys beside the channels' own in a rule's `channels`, in a tier and on a person. */
const RESERVED = new Set(['people', 'reminders', 'tiers', 'after', 'afterseconds', 'id', 'name', 'email', 'roles', 'api', 'web']);

/** The channels one process has installed, by name. Immutable. */
export class ChannelCatalog {
  private readonly byName: ReadonlyMap<string, ChannelDefinition>;

  // Each definition has its own identity type; the catalog only hands them to their schemas.
  constructor(definitions: readonly AnyChannelDefinition[]) {
    const byName = new Map<string, ChannelDefinition>();
    for (const d of definitions) {
      // A plain Error with zod's message: zod/mini's parse throws $ZodError, which callers that
      // recognise validation errors by name would not take for one.
      const name = ChannelNameSchema.safeParse(d.name);
      if (!name.success) throw new Error(`channel name ${JSON.stringify(d.name)}: ${name.error.issues[0]?.message ?? 'invalid'}`);
      if (RESERVED.has(d.name)) throw new Error(`channel name "${d.name}" is reserved`);
      const known = byName.get(d.name);
      // The same definition reached twice (two module lists naming one module) is one channel.
      if (known && known !== d) throw new Error(`two channel definitions named "${d.name}"`);
      byName.set(d.name, d);
    }
    this.byName = byName;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get definitions(): ChannelDefinition[] {
    return [...this.byName.values()];
  }

  get(name: string): ChannelDefinition | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The zod shape of every channel's hints, for a policy file's `channels` and each tier. */
  hintShape(): Record<string, z.ZodType<string[]>> {
    return Object.fromEntries(this.definitions.map((d) => [d.name, d.hints]));
  }

  /** The zod shape of every channel's identity on a person, each optional. */
  identityShape(): Record<string, z.ZodOptional<z.ZodType>> {
    return Object.fromEntries(this.definitions.map((d) => [d.name, d.identity.optional()]));
  }
}

/** No channels: every channel key in a file is refused. */
export const NO_CHANNELS = new ChannelCatalog([]);

/** A person's identity on a channel as its definition reads it, or undefined when they have none there. */
export function identityOn<I>(definition: ChannelDefinition<I>, person: Readonly<Record<string, unknown>>): I | undefined {
  const raw = person[definition.name];
  if (raw === undefined) return undefined;
  const parsed = definition.identity.safeParse(raw);
  // The directory validated it at load; anything else here is not an identity to trust.
  return parsed.success ? parsed.data : undefined;
}
