import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';

// What one route promises, written beside its registration (describeRoute) from the same zod
// schemas that parse its input and shape its answer: the OpenAPI document is built from these,
// never written by hand.

export interface ResponseDoc {
  description: string;
  /** JSON body schema (application/json unless `contentType` says otherwise). */
  schema?: z.ZodType;
  /** Non-JSON answers (CSV, NDJSON, HTML, Prometheus text) name their media types. */
  contentType?: string | string[];
  headers?: Record<string, string>;
}

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Fastify's form: `/v1/actions/:id`. */
  url: string;
  summary: string;
  description?: string;
  tag: string;
  /** Bearer API key required (401 problems are then listed automatically). */
  auth?: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: Record<string, { description: string; schema: z.ZodType; required?: boolean }>;
  /** JSON request body, documented as the schema's input. */
  body?: z.ZodType;
  bodyRequired?: boolean;
  /** Non-JSON request bodies (Slack's form posts) by media type, described in words. */
  otherBody?: Record<string, string>;
  responses: Record<number, ResponseDoc>;
  /** Problem statuses this route answers beyond the ones every route can (400, 500, 503). */
  problems?: number[];
  /** Probes and chat webhooks are exempt from request budgets: no 429. */
  unlimited?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Route documentation in registration order (openapi/route-doc.ts). */
    routeDocs: RouteDoc[];
  }
}

export function installRouteDocs(app: FastifyInstance): void {
  if (!app.hasDecorator('routeDocs')) app.decorate('routeDocs', []);
}

/** Documents a route. Call it beside the route's registration. */
export function describeRoute(app: FastifyInstance, doc: RouteDoc): void {
  installRouteDocs(app);
  const docs = app.routeDocs;
  if (docs.some((d) => d.method === doc.method && d.url === doc.url)) throw new Error(`${doc.method} ${doc.url} is documented twice`);
  docs.push(doc);
}
