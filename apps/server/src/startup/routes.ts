import type { FastifyInstance } from 'fastify';
import { ActionReads, type Caller, type Gate, type KeyService } from '@countersign/core';
import type { Database } from '@countersign/db';
import type { Keyring } from '@countersign/evidence';
import { bearerAuth } from '../http/auth.ts';
import type { RouteContext } from '../routes/context.ts';
import { registerRoutes } from '../routes/index.ts';
import { installRouteDocs, registerOpenApiRoutes } from '../openapi/index.ts';
import type { Settings } from '../settings.ts';

/** The HTTP API's routes, authenticated by API key; returns what they were handed. */
export function registerApiRoutes(app: FastifyInstance, deps: { settings: Settings; gate: Gate; keys: KeyService; keyring: Keyring; db: Database }): RouteContext {
  const { settings, gate, keys, keyring, db } = deps;
  // Who reads what: the parties of an action, plus audit roles (redacted unless allowed more).
  const reads = new ActionReads(gate.deps, db.actions, {
    auditRoles: settings.COUNTERSIGN_AUDIT_ROLES,
    unredactedRoles: settings.COUNTERSIGN_AUDIT_UNREDACTED_ROLES,
  });
  const ctx: RouteContext = {
    gate,
    keys,
    keyring,
    audit: db.auditExport(keyring),
    settings,
    reads,
    authenticate: bearerAuth<Caller>(async (token) => (await keys.authenticate(token)) ?? null),
  };
  installRouteDocs(app);
  registerRoutes(app, ctx);
  // The document covers every route registered by the time it is first asked for (modules too).
  registerOpenApiRoutes(app);
  return ctx;
}
