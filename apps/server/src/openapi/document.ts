import { ProblemSchema } from '@countersign/contracts';
import type { RouteDoc } from './route-doc.ts';
import { SchemaConverter, type JsonSchema } from './json-schema.ts';

// The OpenAPI 3.1 document of the running service, built from the route docs of the routes it
// registered (a service without Slack documents no /slack/events).

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonSchema> } };
type Operation = Record<string, unknown> & { responses: Record<string, unknown> };

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Bad input: field-precise `errors` (also a malformed URL or JSON body).',
  401: 'Missing, malformed, unknown or revoked API key (`unauthenticated`, `unknown_principal`).',
  403: 'Authenticated but not allowed (`forbidden`, `self_approval`, `not_eligible`, …).',
  404: 'No such action, or not one the caller may read (`not_found`).',
  409: 'The action’s state forbids it (`already_voted`, `already_decided`, `expired`, …).',
  413: 'The body is larger than the limit (`payload_too_large`).',
  415: 'The body is not JSON (`unsupported_media_type`).',
  422: 'Well-formed but missing what the rule demands (`reason_required`).',
  429: 'A request budget is spent (`rate_limited`); Retry-After says when to retry.',
  500: 'Internal error; quote the requestId.',
  503: 'A dependency (Postgres) is unreachable (`unavailable`); Retry-After says when to retry.',
};

/** Fastify's `/v1/actions/:id` as OpenAPI's `/v1/actions/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function problemStatuses(doc: RouteDoc): number[] {
  const s = new Set<number>([400, 500, 503, ...(doc.problems ?? [])]);
  if (doc.auth) s.add(401);
  if (doc.body || doc.otherBody) s.add(413).add(415);
  if (!doc.unlimited) s.add(429);
  for (const ok of Object.keys(doc.responses)) s.delete(Number(ok));
  return [...s].sort((a, b) => a - b);
}

function operation(doc: RouteDoc, conv: SchemaConverter): Operation {
  const parameters: unknown[] = [];
  const addParams = (where: 'path' | 'query', schema: RouteDoc['params']) => {
    if (!schema) return;
    const json = conv.convert(schema, 'input');
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
      const { description, ...rest } = prop;
      parameters.push({ name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest });
    }
  };
  addParams('path', doc.params);
  addParams('query', doc.query);
  for (const [name, h] of Object.entries(doc.headers ?? {})) {
    parameters.push({ name, in: 'header', required: h.required ?? false, description: h.description, schema: conv.convert(h.schema, 'input') });
  }

  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    const types = r.contentType === undefined ? ['application/json'] : Array.isArray(r.contentType) ? r.contentType : [r.contentType];
    const schema = r.schema ? conv.convert(r.schema, 'output') : undefined;
    responses[status] = {
      description: r.description,
      ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, { description: v, schema: { type: 'string' } }])) } : {}),
      content: Object.fromEntries(types.map((t) => [t, schema ? { schema } : {}])),
    };
  }
  for (const status of problemStatuses(doc)) {
    responses[String(status)] = {
      description: PROBLEM_TEXT[status] ?? 'A problem.',
      ...(status === 429 || status === 503 ? { headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'string' } } } } : {}),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }

  const op: Operation = {
    operationId: `${doc.method.toLowerCase()}${openApiPath(doc.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(doc.auth ? { security: [{ apiKey: [] }] } : { security: [] }),
    ...(parameters.length ? { parameters } : {}),
    responses,
  };
  if (doc.body || doc.otherBody) {
    const content: Record<string, unknown> = {};
    if (doc.body) content['application/json'] = { schema: conv.convert(doc.body, 'input') };
    for (const [type, description] of Object.entries(doc.otherBody ?? {})) content[type] = { schema: { type: 'string', description } };
    op.requestBody = { required: doc.bodyRequired ?? false, content };
  }
  return op;
}

export function buildOpenApiDocument(docs: readonly RouteDoc[], info: { version: string }): OpenApiDocument {
  const conv = new SchemaConverter();
  conv.convert(ProblemSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  for (const doc of docs) {
    const path = openApiPath(doc.url);
    (paths[path] ??= {})[doc.method.toLowerCase()] = operation(doc, conv);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'countersign',
      version: info.version,
      description: 'A pre-execution authority gate: submit an intent, get approve, refuse or escalate; escalations are decided by people in Slack, Teams, the console or this API. Errors are application/problem+json (RFC 9457) with a stable `code`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(docs.map((d) => d.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: conv.components,
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`countersign keys create`): the principal it belongs to is who acts.' } },
    },
  } as OpenApiDocument;
}
