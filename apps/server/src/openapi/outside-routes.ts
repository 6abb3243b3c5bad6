import { HealthSchema, ReadinessSchema, WebhookSecretSchema } from '@countersign/contracts';
import type { RouteDoc } from './route-doc.ts';

// Routes registered outside apps/server/src/routes: the HTTP shell's probes (http/health.ts)
// and modules' endpoints (Slack, Teams, delivery). Documented here by URL and included in the
// document only when the running service registered them.
// TODO(modules): each module should describe its own routes beside their registration once
// the RouteDoc type lives where modules may import it (packages/modules).

export const OUTSIDE_ROUTE_DOCS: readonly RouteDoc[] = [
  {
    method: 'GET',
    url: '/healthz',
    tag: 'operations',
    summary: 'Liveness: 200 while the process answers',
    unlimited: true,
    responses: { 200: { description: '`degraded` names an optional dependency that is down (e.g. Redis on an API process).', schema: HealthSchema } },
  },
  {
    method: 'GET',
    url: '/readyz',
    tag: 'operations',
    summary: 'Readiness: can this process decide (Postgres)',
    unlimited: true,
    responses: { 200: { description: 'Ready.', schema: ReadinessSchema } },
  },
  {
    method: 'GET',
    url: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    unlimited: true,
    responses: { 200: { description: 'Prometheus text exposition format.', contentType: 'text/plain' } },
  },
  {
    method: 'GET',
    url: '/v1/webhooks/signing-secret',
    tag: 'webhooks',
    auth: true,
    summary: 'The calling API key’s webhook signing secret',
    responses: { 200: { description: 'The HMAC secret and the signature scheme of decision webhooks.', schema: WebhookSecretSchema } },
  },
  {
    method: 'POST',
    url: '/slack/events',
    tag: 'channels',
    summary: 'Slack interactivity and events (Slack signs every request)',
    description: 'For Slack only: requests are checked against the signing secret and workspace. Not a client API.',
    unlimited: true,
    otherBody: { 'application/x-www-form-urlencoded': 'Slack interactivity payload', 'application/json': 'Slack Events API envelope' },
    responses: { 200: { description: 'Acknowledged (empty, text or JSON as Slack expects).', contentType: '*/*' } },
    problems: [400, 401, 403, 404],
  },
  {
    method: 'POST',
    url: '/api/messages',
    tag: 'channels',
    summary: 'Microsoft Teams bot endpoint (Bot Framework JWT)',
    description: 'For the Bot Framework connector only: every request carries its JWT, checked against the Entra tenant. Not a client API.',
    unlimited: true,
    otherBody: { 'application/json': 'Bot Framework activity' },
    responses: { 200: { description: 'Activity handled.', contentType: '*/*' }, 201: { description: 'Activity handled.', contentType: '*/*' } },
    problems: [401, 403],
  },
];

/** Registered routes deliberately left out of the document, by URL prefix, with why. */
export const UNDOCUMENTED_ROUTES: readonly { prefix: string; reason: string }[] = [
  {
    prefix: '/console',
    reason: 'The reviewers’ and auditors’ web console: HTML pages, form posts and server-sent events for a browser signed in with OIDC (session cookie, CSRF token), not an API for clients. Its data is the same as the documented /v1 reads.',
  },
];
