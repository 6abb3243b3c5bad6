export { describeRoute, installRouteDocs, type RouteDoc, type ResponseDoc } from './route-doc.ts';
export { openApiDocumentOf, registerOpenApiRoutes, API_VERSION } from './routes.ts';
export { buildOpenApiDocument, openApiPath, type OpenApiDocument } from './document.ts';
export { UNDOCUMENTED_ROUTES, OUTSIDE_ROUTE_DOCS } from './outside-routes.ts';
export type * from './type-checks.ts';
