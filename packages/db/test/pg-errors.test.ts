import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseUnavailableReason, sqlStateOf, uniqueViolationOf } from '../src/pg-errors.ts';
import { freePort } from '@countersign/devstack';

// Postgres failures as the real clients raise them (pg, pg-pool, @prisma/adapter-pg, Prisma's
// error classes), read through every wrapper.

const unavailable = (err: unknown) => databaseUnavailableReason(err) !== undefined;

function pgError(code: string, extra: Partial<pg.DatabaseError> = {}): pg.DatabaseError {
  const err = new pg.DatabaseError('server says no', 0, 'error');
  err.code = code;
  return Object.assign(err, extra);
}

describe('databaseUnavailableReason', () => {
  it('recognises pg socket failures, a pool that cannot connect, and connection-class SQLSTATEs', async () => {
    const port = await freePort();
    // The timeout only guards against the released port being taken meanwhile (no hang).
    const refused = await new pg.Client({ host: '127.0.0.1', port, connectionTimeoutMillis: 5000 }).connect().catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe('ECONNREFUSED');
    expect(unavailable(refused)).toBe(true);

    // A server that accepts TCP and never speaks: pg's connection timeout fires, and a second
    // checkout from the full pool gives up waiting.
    const sockets = new Set<net.Socket>();
    const blackHole = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const pool = new pg.Pool({ host: '127.0.0.1', port: (blackHole.address() as net.AddressInfo).port, max: 1, connectionTimeoutMillis: 100 });
    try {
      const errors = await Promise.all([pool.connect().catch((e: unknown) => e), pool.connect().catch((e: unknown) => e)]);
      for (const err of errors) expect(unavailable(err), (err as Error).message).toBe(true);
    } finally {
      await pool.end();
      blackHole.close();
      for (const s of sockets) s.destroy();
    }
    expect(unavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);

    for (const code of ['57P01', '53300', '08006', '08001']) {
      const err = new pg.DatabaseError('server says no', 0, 'error');
      err.code = code;
      expect(unavailable(err), code).toBe(true);
    }
    const constraint = new pg.DatabaseError('duplicate key', 0, 'error');
    constraint.code = '23505';
    expect(unavailable(constraint)).toBe(false);
  });

  it("recognises @prisma/adapter-pg's DriverAdapterError and Prisma's wrapped forms", async () => {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const { PrismaClientKnownRequestError, PrismaClientInitializationError, PrismaClientUnknownRequestError } = await import(
      '@prisma/client/runtime/client'
    );
    const port = await freePort();
    const adapter = await new PrismaPg({ connectionString: `postgres://u:p@127.0.0.1:${port}/d` }).connect();
    const driverError = await adapter.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] }).catch((e: unknown) => e);
    await adapter.dispose();
    expect((driverError as Error).name).toBe('DriverAdapterError');
    expect(unavailable(driverError)).toBe(true);

    // What the Prisma client throws around it (P1001), and around a postgres-kind error (P2039).
    const known = new PrismaClientKnownRequestError("Can't reach database server", {
      code: 'P1001',
      clientVersion: '7.10.0',
      meta: { driverAdapterError: driverError },
    });
    expect(unavailable(known)).toBe(true);
    const shutdown = Object.assign(new Error('postgres'), {
      name: 'DriverAdapterError',
      cause: { kind: 'postgres', code: '57P01', originalCode: '57P01', severity: 'FATAL', message: 'terminating connection' },
    });
    const wrapped = new PrismaClientKnownRequestError('Database error. Code: `57P01`. Message: `terminating connection`', {
      code: 'P2039',
      clientVersion: '7.10.0',
      meta: { driverAdapterError: shutdown },
    });
    expect(unavailable(wrapped)).toBe(true);
    expect(unavailable(new PrismaClientKnownRequestError('Timed out fetching a new connection', { code: 'P2024', clientVersion: '7.10.0' }))).toBe(true);
    expect(unavailable(new PrismaClientInitializationError("Can't reach database server", '7.10.0', 'P1001'))).toBe(true);
    const unknown = new PrismaClientUnknownRequestError('Error in external connector', { clientVersion: '7.10.0' });
    (unknown as Error).cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' });
    expect(unavailable(unknown)).toBe(true);

    expect(unavailable(new PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: '7.10.0' }))).toBe(false);
  });

  it('treats Prisma P2028 "unable to start a transaction" as unavailable, other P2028s not', async () => {
    const { PrismaClientKnownRequestError } = await import('@prisma/client/runtime/client');
    const busy = new PrismaClientKnownRequestError('Transaction API error: Unable to start a transaction in the given time.', { code: 'P2028', clientVersion: '7.10.0' });
    const closed = new PrismaClientKnownRequestError('Transaction API error: Transaction already closed.', { code: 'P2028', clientVersion: '7.10.0' });
    expect(unavailable(busy)).toBe(true);
    expect(unavailable(closed)).toBe(false);
  });

  it('names the reason without anything secret, and calls ordinary errors not transient', () => {
    expect(databaseUnavailableReason(pgError('57P01'))).toBe('57P01');
    expect(databaseUnavailableReason(new Error('Connection terminated unexpectedly'))).toBe('connection');
    expect(unavailable(new Error('boom'))).toBe(false);
    expect(unavailable(null)).toBe(false);
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(unavailable(loop)).toBe(false);
  });
});

describe('sqlStateOf', () => {
  it('reads the SQLSTATE from pg, from the adapter, and from the text of a Prisma error', async () => {
    const { PrismaClientKnownRequestError } = await import('@prisma/client/runtime/client');
    expect(sqlStateOf(pgError('40001'))).toBe('40001');
    const adapter = Object.assign(new Error('postgres'), { name: 'DriverAdapterError', cause: { kind: 'postgres', code: '22P02', originalCode: '22P02' } });
    expect(sqlStateOf(new PrismaClientKnownRequestError('Raw query failed', { code: 'P2010', clientVersion: '7.10.0', meta: { driverAdapterError: adapter } }))).toBe('22P02');
    expect(sqlStateOf(new PrismaClientKnownRequestError('Database error. Code: `54000`. Message: `too long`', { code: 'P2039', clientVersion: '7.10.0' }))).toBe('54000');
    // Prisma's own code is not a SQLSTATE.
    expect(sqlStateOf(new PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: '7.10.0' }))).toBeUndefined();
    expect(sqlStateOf(new Error('bug'))).toBeUndefined();
  });
});

describe('uniqueViolationOf', () => {
  it("names the constraint of Prisma's P2002 and Postgres' 23505, wrapped or not", async () => {
    const { PrismaClientKnownRequestError } = await import('@prisma/client/runtime/client');
    expect(uniqueViolationOf(new PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: '7.10.0', meta: { target: 'Vote_actionId_personId_key' } }))).toBe(
      'Vote_actionId_personId_key',
    );
    expect(uniqueViolationOf(new Error('insert failed', { cause: pgError('23505', { constraint: 'Action_pkey' }) }))).toBe('Action_pkey');
    expect(uniqueViolationOf(pgError('23505'))).toBe('unknown');
    expect(uniqueViolationOf(pgError('23503'))).toBeUndefined();
    expect(uniqueViolationOf(new Error('boom'))).toBeUndefined();
  });
});
