import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { DomainError, ERROR_CODES, type ErrorCode } from '@countersign/contracts';
import { buildHttpApp } from '../src/http/app.ts';
import { problemBody, statusFor } from '../src/http/problem.ts';

const EXPECTED: Record<ErrorCode, number> = {
  invalid_intent: 400,
  invalid_request: 400,
  unauthenticated: 401,
  unknown_principal: 401,
  forbidden: 403,
  self_approval: 403,
  not_eligible: 403,
  delegation_not_allowed: 403,
  not_overridable: 403,
  unknown_identity: 403,
  not_found: 404,
  already_voted: 409,
  already_decided: 409,
  expired: 409,
  idempotency_conflict: 409,
  already_redeemed: 409,
  invalid_release_token: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  reason_required: 422,
  internal: 500,
  unavailable: 503,
};

describe('statusFor', () => {
  it('maps every contract error code, and only those', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(statusFor(code), code).toBe(EXPECTED[code]);
  });

  it('treats a code missing from the table as a 500', () => {
    expect(statusFor('no_such_code' as ErrorCode)).toBe(500);
  });
});

describe('problemBody', () => {
  it('keeps extras as extension members without letting them shadow standard ones', () => {
    const body = problemBody(new DomainError('not_overridable', 'no', { extra: { status: 'approved', actionId: 'act_1' } }), {
      requestId: 'r1',
    });
    expect(body.status).toBe(403);
    expect(body.actionId).toBe('act_1');
    expect(body.extra).toEqual({ status: 'approved' });
  });

  it('says nothing internal for a 500, even from a DomainError', () => {
    const body = problemBody(new DomainError('internal', 'Action without artifact act_1 in table x', { extra: { sql: 'SELECT' } }), {
      requestId: 'r1',
    });
    expect(JSON.stringify(body)).not.toMatch(/artifact act_1|SELECT/);
  });
});

describe('DomainError → problem+json response', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = buildHttpApp({ logger: { level: 'silent' }, readinessChecks: [] });
    // Throwaway route: throws whichever contract code the test names.
    app.get<{ Params: { code: ErrorCode } }>('/throw/:code', async (request) => {
      throw new DomainError(request.params.code, `detail for ${request.params.code}`, {
        issues: [{ field: 'action.type', message: 'bad' }],
        extra: { actionId: 'act_123' },
      });
    });
    await app.ready();
  });
  afterAll(() => app.close());

  for (const code of ERROR_CODES) {
    it(`${code} → ${EXPECTED[code]}`, async () => {
      const res = await app.inject({ method: 'GET', url: `/throw/${code}?secret=s3cr3t`, headers: { 'x-request-id': `rid-${code}` } });
      expect(res.statusCode).toBe(EXPECTED[code]);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.headers['x-request-id']).toBe(`rid-${code}`);
      const body = res.json();
      expect(body).toMatchObject({
        type: `https://countersign.dev/problems/${code}`,
        status: EXPECTED[code],
        code,
        requestId: `rid-${code}`,
        instance: `/throw/${code}`,
      });
      expect(typeof body.title).toBe('string');
      if (code === 'internal') {
        expect(body.detail).not.toContain('detail for');
        expect(body.errors).toBeUndefined();
        expect(body.actionId).toBeUndefined();
      } else {
        expect(body.detail).toBe(`detail for ${code}`);
        expect(body.errors).toEqual([{ field: 'action.type', message: 'bad' }]);
        expect(body.actionId).toBe('act_123');
      }
      expect(res.body).not.toContain('s3cr3t');
      if (EXPECTED[code] === 401) expect(res.headers['www-authenticate']).toBe('Bearer realm="countersign"');
      if (EXPECTED[code] === 503) expect(res.headers['retry-after']).toBe('5');
    });
  }
});
