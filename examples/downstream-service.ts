// A downstream service that deletes environments, but only with countersign's release:
//   1. the release token must verify: signature (JWKS), expiry, audience, and bound to exactly
//      the intent it is asked to carry out (so approving env A never deletes env B);
//   2. it must be redeemed once with countersign: a replayed token is refused;
//   3. only then does the service act, on what the approved intent says.
//
// Run it (after `npm start` and `npm run build -w @countersign/sdk`):
//   npx tsx examples/downstream-service.ts            # listens on http://127.0.0.1:4100
// Environment: CS (countersign's URL), DOWNSTREAM_KEY (the API key it redeems with),
// DOWNSTREAM_PORT (default 4100), RELEASE_AUDIENCE (default countersign-release: must match the
// server's COUNTERSIGN_RELEASE_AUDIENCE).
import http from 'node:http';
import {
  ApiError,
  Countersign,
  createReleaseVerifier,
  ReleaseVerificationError,
  type IntentInput,
  type ReleaseVerifier,
} from '@countersign/sdk';
import { apiKey, countersignUrl, isMain } from './demo-config.ts';

export const RELEASE_HEADER = 'countersign-release-token';

export interface DownstreamOptions {
  /** Client with the service's own API key, for redemption. */
  countersign: Countersign;
  verifier: ReleaseVerifier;
  /** The actual work; runs at most once per release token. */
  deleteEnvironment(environment: string): Promise<void>;
}

/** POST /environments/delete with `Countersign-Release-Token` and body `{ intent }`. */
export function createDownstreamService(opts: DownstreamOptions): http.Server {
  return http.createServer((req, res) => {
    handle(opts, req).then(
      ({ status, body }) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (err: unknown) => {
        // Not the caller's fault (countersign unreachable, a bug): log it here, answer without internals.
        console.error('downstream service: request failed', err);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'internal error' }));
      },
    );
  });
}

async function handle(opts: DownstreamOptions, req: http.IncomingMessage): Promise<{ status: number; body: unknown }> {
  if (req.method !== 'POST' || req.url !== '/environments/delete') return { status: 404, body: { error: 'not found' } };
  const token = req.headers[RELEASE_HEADER];
  if (typeof token !== 'string' || token === '') return { status: 401, body: { error: `missing ${RELEASE_HEADER}` } };
  const body = parseJson(await readBody(req));
  if (body === undefined) return { status: 400, body: { error: 'the request body must be JSON: { "intent": { … } }' } };
  const intent = (body as { intent?: IntentInput }).intent;
  if (!intent || intent.action?.type !== 'environment.delete' || !intent.action.resource) {
    return { status: 400, body: { error: 'this service only deletes environments: send { intent } with action.type "environment.delete"' } };
  }

  let actionId: string;
  try {
    ({ actionId } = await opts.verifier.verify(token, { intent }));
  } catch (err) {
    if (err instanceof ReleaseVerificationError) return { status: 403, body: { error: err.message, reason: err.reason } };
    throw err;
  }
  try {
    await opts.countersign.redeemRelease(token, { intent });
  } catch (err) {
    if (err instanceof ApiError && err.code === 'already_redeemed') return { status: 409, body: { error: 'this release was already used' } };
    if (err instanceof ApiError) return { status: 403, body: { error: err.message, code: err.code } };
    throw err;
  }
  // What to delete comes from the approved intent, not from anything else in the request.
  await opts.deleteEnvironment(intent.action.resource);
  return { status: 200, body: { deleted: intent.action.resource, actionId } };
}

/** The parsed body when it is a JSON object, else undefined (a 400, not a parser's 500). */
function parseJson(text: string): object | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8') || '{}'));
    req.on('error', reject);
  });
}

if (isMain(import.meta.url)) {
  const baseUrl = countersignUrl();
  const port = Number(process.env.DOWNSTREAM_PORT ?? 4100);
  const server = createDownstreamService({
    // In production the service has its own key (countersign keys create --principal <its id>);
    // the demo borrows the agent's.
    countersign: new Countersign({ baseUrl, apiKey: apiKey('DOWNSTREAM_KEY', 'deploy-bot') }),
    verifier: createReleaseVerifier({ jwksUrl: `${baseUrl}/.well-known/jwks.json`, audience: process.env.RELEASE_AUDIENCE ?? 'countersign-release' }),
    async deleteEnvironment(environment) {
      console.log(`deleting ${environment} … done (pretend)`);
    },
  });
  server.listen(port, '127.0.0.1', () => console.log(`downstream service on http://127.0.0.1:${port}, trusting ${baseUrl}`));
}
