import type { FastifyInstance } from 'fastify';
import { actionReadRoutes } from './action-reads.ts';
import { actionRoutes } from './actions.ts';
import { auditRoutes } from './audit.ts';
import type { RouteContext } from './context.ts';
import { decisionRoutes } from './decisions.ts';
import { releaseRoutes } from './releases.ts';

// Every route of the HTTP API, in one list. A new endpoint is a file in this folder (one per
// resource: parse input with zod, call the engine through ctx.gate, reply) added here.
// Elsewhere only:
// - the HTTP shell's own endpoints (healthz, readyz, metrics) in ../http/health.ts;
// - a module's endpoints (Slack's /slack/events, Teams' /api/messages, …), which the module
//   registers on ServiceContext.app in its register(), so a service without it has none.

export const ROUTES: readonly ((app: FastifyInstance, ctx: RouteContext) => void)[] = [actionRoutes, actionReadRoutes, decisionRoutes, auditRoutes, releaseRoutes];

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const routes of ROUTES) routes(app, ctx);
}
