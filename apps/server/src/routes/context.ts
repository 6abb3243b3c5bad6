import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DomainError } from '@countersign/contracts';
import type { ActionReads, AuditExport, Caller, Gate, KeyService } from '@countersign/core';
import type { Keyring } from '@countersign/evidence';
import type { Settings } from '../settings.ts';

/** What every route module is handed: the engine's front door and the few things beside it. */
export interface RouteContext {
  gate: Gate;
  keys: KeyService;
  keyring: Keyring;
  /** The approval history with its artifacts, for the audit export. */
  audit: AuditExport;
  settings: Settings;
  /** Reads: action pages, lists, evidence; who reads what (audit roles included). */
  reads: ActionReads;
  /** Bearer API key → Caller, or a 401 problem. */
  authenticate: preHandlerAsyncHookHandler;
}

export function callerOf(request: FastifyRequest): Caller {
  const caller = request.auth as Caller | undefined;
  // Reaching a handler without a caller means a route forgot its preHandler: refuse.
  if (!caller) throw new DomainError('unauthenticated', 'Authentication required.');
  return caller;
}

/** Votes and overrides are decisions of people; an agent's key can never cast one. */
export function personOf(request: FastifyRequest): string {
  const caller = callerOf(request);
  if (caller.principal.kind !== 'person') {
    throw new DomainError('forbidden', 'Only a person may vote or override; this key belongs to an agent.');
  }
  return caller.principal.id;
}
