import type { FastifyInstance } from 'fastify';
import { DomainError } from '@countersign/contracts';
import type { KeyService } from '@countersign/core';
import { webhookSecretFor } from './signing-secret.ts';

/**
 * GET /v1/webhooks/signing-secret: the webhook signing secret of the calling API key. Whoever
 * holds the key is who the webhooks are for; nobody else can ask for it. Also available
 * offline: `countersign webhook-secret KEY_ID`.
 */
export function signingSecretRoute(app: FastifyInstance, keys: KeyService, master: Buffer): void {
  app.get('/v1/webhooks/signing-secret', async (request, reply) => {
    const header = request.headers.authorization;
    const token = header && /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (!token) throw new DomainError('unauthenticated', 'Missing or malformed Authorization header; send "Authorization: Bearer <token>".');
    const caller = await keys.authenticate(token);
    if (!caller) throw new DomainError('unauthenticated', 'The bearer token is not valid.');
    reply.header('cache-control', 'no-store');
    return {
      keyId: caller.keyId,
      secret: webhookSecretFor(master, caller.keyId),
      scheme: 'Countersign-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>',
    };
  });
}
