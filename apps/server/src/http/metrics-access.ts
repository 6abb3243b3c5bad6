import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { DomainError } from '@countersign/contracts';
import { sendProblem } from './problem.ts';

// /metrics names queues, rules, channels and how much is pending: operational detail an
// outsider should not read. COUNTERSIGN_METRICS_TOKEN makes the scraper present a bearer token
// (Prometheus: `authorization: { credentials_file: … }`); COUNTERSIGN_METRICS_PORT moves the
// endpoint off the API's port, to one only the monitoring network reaches. Either, or both.

/** The refusal a scraper without the token gets (401, problem+json, like every other refusal). */
export const METRICS_UNAUTHENTICATED = new DomainError('unauthenticated', '/metrics needs the metrics bearer token (COUNTERSIGN_METRICS_TOKEN).');

/** Constant-time check of an `Authorization` header against the configured token. */
export function metricsAuthorized(header: string | undefined, token: string): boolean {
  const match = /^Bearer (\S+)$/i.exec(header?.trim() ?? '');
  if (!match) return false;
  // Digests first: equal lengths for timingSafeEqual, and the token's length does not leak.
  const given = createHash('sha256').update(match[1]!, 'utf8').digest();
  const wanted = createHash('sha256').update(token, 'utf8').digest();
  return timingSafeEqual(given, wanted);
}

export function sendMetricsUnauthorized(reply: FastifyReply): FastifyReply {
  return sendProblem(reply, METRICS_UNAUTHENTICATED);
}
