import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { DomainError } from '@countersign/contracts';

// The console's static files: plain ES modules and one stylesheet, served as they are in the
// repository (no build step, no CDN). Only the files in that folder are served.
export const PUBLIC_DIR = path.resolve(fileURLToPath(new URL('../../public', import.meta.url)));
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

export function assetFiles(): string[] {
  return fs.readdirSync(PUBLIC_DIR).filter((f) => TYPES[path.extname(f)]);
}

export function assetRoutes(app: FastifyInstance): void {
  const files = new Map(assetFiles().map((f) => [f, fs.readFileSync(path.join(PUBLIC_DIR, f))]));
  app.get('/console/assets/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const body = files.get(file);
    if (!body) throw new DomainError('not_found', `No console asset ${file}.`);
    reply.header('cache-control', 'no-cache');
    return reply.type(TYPES[path.extname(file)]!).send(body);
  });
}
