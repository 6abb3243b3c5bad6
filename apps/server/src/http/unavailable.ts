// Recognises "a dependency we need is unreachable right now" (Postgres, Redis), whatever layer
// wrapped it: raw pg, pg-pool, @prisma/adapter-pg's DriverAdapterError, Prisma's client errors,
// ioredis. Those become 503 + Retry-After: the caller may retry, and nothing was decided.
// Anything not recognised here stays a 500: fail closed means never guessing "transient".

/** Socket-level failures (Node `err.code`). */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

/** Postgres SQLSTATEs meaning "the server cannot serve you now" (class 08 is matched by prefix). */
const PG_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
]);

/** Prisma error codes for connectivity (client errors and initialisation errors). */
const PRISMA_CODES = new Set([
  'P1001', // can't reach database server
  'P1002', // database server reached but timed out
  'P1008', // operation timed out
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2037', // too many database connections
]);

/** @prisma/driver-adapter-utils MappedError kinds for connectivity. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** pg / pg-pool / ioredis messages for failures that carry no code. */
const EXACT_MESSAGES = new Set([
  'timeout expired', // pg Client connectionTimeoutMillis
  'Connection terminated', // pg Client ended under a query
  'Connection is closed.', // ioredis
]);
const MESSAGE_FRAGMENTS = [
  'timeout exceeded when trying to connect', // pg-pool: no client within connectionTimeoutMillis
  'Connection terminated unexpectedly', // pg: server went away
  'Connection terminated due to connection timeout', // pg
  'Client has encountered a connection error and is not queryable', // pg
  "Stream isn't writeable and enableOfflineQueue options is false", // ioredis
];
const ERROR_NAMES = new Set(['MaxRetriesPerRequestError']); // ioredis gave up on a command

const MAX_DEPTH = 8;

export function isUnavailableError(err: unknown): boolean {
  return findUnavailable(err, 0, new Set()) !== undefined;
}

/**
 * A short, secret-free label for why a dependency is unavailable (an error code or adapter
 * kind), for readiness output and logs; undefined when the error is not a connectivity error.
 */
export function unavailableReason(err: unknown): string | undefined {
  return findUnavailable(err, 0, new Set());
}

function findUnavailable(err: unknown, depth: number, seen: Set<unknown>): string | undefined {
  if (depth > MAX_DEPTH || typeof err !== 'object' || err === null || seen.has(err)) return undefined;
  seen.add(err);
  const e = err as Record<string, unknown>;

  const own = ownReason(e);
  if (own !== undefined) return own;

  // Walk every place a wrapper keeps the original: Error.cause (pg, adapter), Prisma's
  // meta.driverAdapterError, AggregateError.errors (Node's happy-eyeballs connect).
  const nested: unknown[] = [e.cause];
  if (typeof e.meta === 'object' && e.meta !== null) nested.push((e.meta as Record<string, unknown>).driverAdapterError);
  if (Array.isArray(e.errors)) nested.push(...e.errors);
  for (const inner of nested) {
    const found = findUnavailable(inner, depth + 1, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

function ownReason(e: Record<string, unknown>): string | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined) {
    if (SOCKET_CODES.has(code)) return code;
    if (isUnavailableSqlState(code)) return code;
    if (PRISMA_CODES.has(code)) return code;
    // P2028 is Prisma's catch-all for interactive transactions; only "could not start one in
    // time" (every pooled connection busy) means the database is unavailable to us right now.
    if (code === 'P2028' && typeof e.message === 'string' && /unable to start a transaction/i.test(e.message)) return code;
  }
  // PrismaClientInitializationError carries its code as `errorCode`.
  if (typeof e.errorCode === 'string' && PRISMA_CODES.has(e.errorCode)) return e.errorCode;

  // A DriverAdapterError's cause is a plain MappedError object: { kind, code?, originalCode? }.
  if (typeof e.kind === 'string') {
    if (ADAPTER_KINDS.has(e.kind)) return e.kind;
    if (typeof e.originalCode === 'string' && (SOCKET_CODES.has(e.originalCode) || isUnavailableSqlState(e.originalCode))) {
      return e.originalCode;
    }
  }

  if (typeof e.name === 'string' && ERROR_NAMES.has(e.name)) return e.name;
  if (typeof e.message === 'string') {
    if (EXACT_MESSAGES.has(e.message)) return 'connection';
    if (MESSAGE_FRAGMENTS.some((m) => (e.message as string).includes(m))) return 'connection';
    // Prisma's P2039/P2010 wrap a postgres error as text: "Database error. Code: `57P01`. …"
    const embedded = /Code: `([0-9A-Z]{5})`/.exec(e.message)?.[1];
    if (embedded !== undefined && isUnavailableSqlState(embedded)) return embedded;
  }
  return undefined;
}

function isUnavailableSqlState(code: string): boolean {
  return PG_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
}
