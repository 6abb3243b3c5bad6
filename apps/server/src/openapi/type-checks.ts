import type { z } from 'zod';
import type { ActionPageSchema, ActionViewSchema, EvidenceSchema, RedemptionSchema } from '@countersign/contracts';
import type { ActionPage, ActionView } from '@countersign/core';
import type { SealedArtifact } from '@countersign/contracts';

// Compile-time only: the response schemas the document is built from describe exactly the
// types the engine answers with. A field added to ActionView (or removed) without its schema
// fails `tsc` here, not a client in production.

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

type ViewOut = z.output<typeof ActionViewSchema>;
// The schema's artifact `kind` is a string enum built at run time. Every answer the schema
// allows is an ActionView (it may be narrower: votes' `decision` is approve|deny where the
// SDK's wire type says string), and the two have exactly the same members.
type Loose<T> = Omit<T, 'artifact'> & { artifact: unknown };

export type ActionViewFits = Assert<[Loose<ViewOut>] extends [Loose<ActionView>] ? true : false>;
export type ActionViewMembers = Assert<Same<keyof ViewOut, keyof ActionView>>;
export type ActionPageMatches = Assert<Same<z.output<typeof ActionPageSchema>['items'][number]['id'], ActionPage['items'][number]['id']>>;
export type EvidenceMatches = Assert<Same<keyof z.output<typeof EvidenceSchema>, 'artifacts' | 'predecessors'>>;
export type RedemptionMatches = Assert<Same<keyof z.output<typeof RedemptionSchema>, 'actionId' | 'jti' | 'audience' | 'intentHash' | 'actionType' | 'redeemedAt' | 'redeemedBy'>>;
export type ArtifactMatches = Assert<Same<keyof SealedArtifact, 'seq' | 'kind' | 'actionId' | 'at' | 'canonical' | 'hash' | 'prevHash' | 'signature' | 'keyId'>>;
