import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument, type OpenApiDocument } from './document.ts';
import { DOCS_CSP, docsPage } from './docs-page.ts';
import { OUTSIDE_ROUTE_DOCS } from './outside-routes.ts';
import { describeRoute, type RouteDoc } from './route-doc.ts';

/** The HTTP contract's version (SPEC "HTTP contract (v1)"); changes within it are additive. */
export const API_VERSION = '1.0.0';

/**
 * The document of the running service: the routes it registered, as their docs describe them.
 * Built on first request, once every module has registered its routes.
 */
export function openApiDocumentOf(app: FastifyInstance): OpenApiDocument {
  const registered = new Set(app.registeredRoutes.map((r) => `${r.method} ${r.url}`));
  const docs: RouteDoc[] = [...app.routeDocs, ...OUTSIDE_ROUTE_DOCS.filter((d) => registered.has(`${d.method} ${d.url}`))];
  return buildOpenApiDocument(
    docs.filter((d) => registered.has(`${d.method} ${d.url}`)),
    { version: API_VERSION },
  );
}

/** GET /openapi.json and GET /docs (a static page rendered from the document, no scripts). */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  let cached: { json: string; html: string } | undefined;
  const rendered = () => {
    if (!cached) {
      const doc = openApiDocumentOf(app);
      cached = { json: JSON.stringify(doc), html: docsPage(doc) };
    }
    return cached;
  };
  describeRoute(app, {
    method: 'GET',
    url: '/openapi.json',
    tag: 'operations',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI document of this service’s routes.', contentType: 'application/json' } },
  });
  app.get('/openapi.json', async (_request, reply) => reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8').send(rendered().json));

  describeRoute(app, {
    method: 'GET',
    url: '/docs',
    tag: 'operations',
    summary: 'The API’s documentation page (works offline, no scripts)',
    responses: { 200: { description: 'HTML rendered from the document.', contentType: 'text/html' } },
  });
  app.get('/docs', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').header('content-security-policy', DOCS_CSP).header('referrer-policy', 'no-referrer').type('text/html; charset=utf-8').send(rendered().html),
  );
}
