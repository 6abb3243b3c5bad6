import type { FastifyInstance } from 'fastify';

// Every route registered on the app, by whichever module registered it. Tests walk it (each
// route must answer bad input with problem+json, never a 5xx), and the API document can be
// checked against it: a route nobody listed cannot hide.

export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Routes in registration order; HEAD routes Fastify adds for GETs are left out. */
    registeredRoutes: readonly RegisteredRoute[];
  }
}

export function installRouteCatalog(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD' && route.url && routes.some((r) => r.method === 'GET' && r.url === route.url)) continue;
      routes.push({ method, url: route.url ?? route.path });
    }
  });
}
