import * as z from 'zod/mini';

// In zod's tree-shakable build (zod/mini), like the artifact events that name channels: a
// verifying thread loads only what checking an export needs (see artifact.ts).

/** Lowercase: a key in YAML files, a label in metrics, the `channel` of a vote. */
export const ChannelNameSchema = z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, 'channel names are lowercase letters, digits and "-"'));
