// The one reader of Postgres failures, through every wrapper they arrive in: raw pg and
// pg-pool errors, @prisma/adapter-pg's DriverAdapterError (whose cause is a plain MappedError
// { kind, code?, originalCode? }), Prisma's client errors (their own P-codes, the driver error
// under meta.driverAdapterError, or a SQLSTATE only as text: "Database error. Code: `57P01`"),
// and AggregateError.errors (Node's happy-eyeballs connect). Callers ask what they need to
// know: the SQLSTATE, a unique violation, or "the database cannot serve us now".

const MAX_DEPTH = 8;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The first answer `read` gives for the error or anything it wraps, outermost first. */
function firstInChain<T>(err: unknown, read: (e: Record<string, unknown>) => T | undefined): T | undefined {
  for (const e of errorChain(err)) {
    const found = read(e);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The error and everything it wraps, outermost first, each once. */
function* errorChain(err: unknown, depth = 0, seen = new Set<unknown>()): Generator<Record<string, unknown>> {
  if (depth > MAX_DEPTH || typeof err !== 'object' || err === null || seen.has(err)) return;
  seen.add(err);
  const e = err as Record<string, unknown>;
  yield e;
  const nested: unknown[] = [e.cause];
  if (typeof e.meta === 'object' && e.meta !== null) nested.push((e.meta as Record<string, unknown>).driverAdapterError);
  if (Array.isArray(e.errors)) nested.push(...e.errors);
  for (const inner of nested) yield* errorChain(inner, depth + 1, seen);
}

/** The Postgres SQLSTATE behind an error, if Postgres answered at all. */
export function sqlStateOf(err: unknown): string | undefined {
  return firstInChain(err, ownSqlState);
}

function ownSqlState(e: Record<string, unknown>): string | undefined {
  if (typeof e.originalCode === 'string' && SQLSTATE.test(e.originalCode)) return e.originalCode;
  // Prisma's own codes (P2010…) look like SQLSTATEs but are not; its errors carry clientVersion.
  if (e.clientVersion === undefined && typeof e.code === 'string' && SQLSTATE.test(e.code)) return e.code;
  return typeof e.message === 'string' ? /Code: `([0-9A-Z]{5})`/.exec(e.message)?.[1] : undefined;
}

/**
 * The constraint a unique violation broke (Prisma's P2002 or Postgres' 23505), 'unknown' when
 * the error does not name it; undefined when the error is not a unique violation.
 */
export function uniqueViolationOf(err: unknown): string | undefined {
  return firstInChain(err, (e) => {
    if (e.code !== 'P2002' && ownSqlState(e) !== '23505') return undefined;
    const meta = (e.meta ?? {}) as { target?: unknown; constraint?: unknown };
    return String(meta.target ?? meta.constraint ?? e.constraint ?? 'unknown');
  });
}

/** Socket-level failures (Node `err.code`, or a MappedError's originalCode). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** SQLSTATEs meaning "the server cannot serve you now" (class 08, connection exception, by prefix). */
const UNAVAILABLE_SQLSTATES = new Set([
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

/** pg / pg-pool messages for failures that carry no code. */
const EXACT_MESSAGES = new Set([
  'timeout expired', // pg Client connectionTimeoutMillis
  'Connection terminated', // pg Client ended under a query
]);
const MESSAGE_FRAGMENTS = [
  'timeout exceeded when trying to connect', // pg-pool: no client within connectionTimeoutMillis
  'Connection terminated unexpectedly', // pg: server went away
  'Connection terminated due to connection timeout', // pg
  'Client has encountered a connection error and is not queryable', // pg
];

/**
 * A short, secret-free label (an error code, SQLSTATE or adapter kind) when the database is
 * unreachable or refusing connections right now; undefined for anything else, which callers
 * must not treat as transient (fail closed).
 */
export function databaseUnavailableReason(err: unknown): string | undefined {
  return firstInChain(err, ownUnavailableReason);
}

function ownUnavailableReason(e: Record<string, unknown>): string | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && (SOCKET_CODES.has(code) || PRISMA_CODES.has(code))) return code;
  // P2028 is Prisma's catch-all for interactive transactions; only "could not start one in
  // time" (every pooled connection busy) means the database is unavailable to us right now.
  if (code === 'P2028' && typeof e.message === 'string' && /unable to start a transaction/i.test(e.message)) return code;
  // PrismaClientInitializationError carries its code as `errorCode`.
  if (typeof e.errorCode === 'string' && PRISMA_CODES.has(e.errorCode)) return e.errorCode;
  if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return e.kind;
  if (typeof e.originalCode === 'string' && SOCKET_CODES.has(e.originalCode)) return e.originalCode;
  const state = ownSqlState(e);
  if (state !== undefined && (UNAVAILABLE_SQLSTATES.has(state) || state.startsWith('08'))) return state;
  if (typeof e.message === 'string' && (EXACT_MESSAGES.has(e.message) || MESSAGE_FRAGMENTS.some((m) => (e.message as string).includes(m)))) return 'connection';
  return undefined;
}
