import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import {
  linesOf,
  publicKeysFromJwks,
  publicKeysFromText,
  retirementsFromJwks,
  shownColumn,
  verifyExportParallel,
  VerifyThreadError,
  type KeyRetirement,
  type VerifyReport,
} from '@countersign/evidence';
import { GENESIS_HASH } from '@countersign/contracts';
import type { CliContext } from '../registry.ts';
import { parseCli } from '../args.ts';
import { shownError, shownLine, terminalJson } from '../terminal.ts';

const USAGE = `usage: countersign verify FILE|- --key PUBKEY [--key PUBKEY ...] [--allow-no-trailer] [--threads N] [--json]
  FILE        an audit export (JSONL or CSV); "-" reads stdin
  --key       a PEM public key file, a JWKS JSON file, or an http(s) URL serving a JWKS
              (repeat it for rotated keys). A JWKS from /.well-known/jwks.json also says
              where each retired key's range ends; rotations inside the export say it too
  --threads   verifying threads for a large export (default: one per CPU core, started
              past 20,000 lines, or at once for a file of 40 MB or more; 0: none). The
              report is the same whatever the number
exit status: 0 verified, 1 verification failed, 2 usage, key or read error, or the
             verification could not finish
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = {
  key: { type: 'string', multiple: true },
  'allow-no-trailer': { type: 'boolean', default: false },
  threads: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** FILE comes first: `verify help` verifies a file named help (dispatch.ts). */
export const helpWord = false;

/**
 * Sealed records take about 1–2 KB a line: counting 2 KB a line guesses low, so a file taken for
 * 20,000 lines or more (40 MB) has its threads started with the first line, not after 20,000.
 */
const BYTES_PER_LINE = 2048;

/**
 * Offline verification of an audit export: every hash, signature, seq and link, and the trailer.
 * The export is the thing under test, so whatever the report quotes from it (a problem's
 * message, the trailer's filter) is shown through terminal.ts, like a remote JWKS's errors.
 */
export async function run(args: string[], ctx: CliContext & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  let parsed;
  try {
    parsed = parseCli(args, options);
  } catch (err) {
    return usage(ctx, shownError(err));
  }
  const threadsText = parsed.values.threads;
  if (threadsText !== undefined && !/^[0-9]{1,4}$/.test(threadsText)) return usage(ctx, `--threads must be a whole number (0 or more), got ${shownLine(JSON.stringify(threadsText))}`);
  const threads = threadsText === undefined ? undefined : Number(threadsText);
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length > 0) return usage(ctx, file ? `unexpected argument ${shownLine(extra[0])}` : 'FILE is required');
  const keySources = parsed.values.key ?? [];
  if (keySources.length === 0) return usage(ctx, '--key is required: verification needs the public key(s)');

  const keys = new Map<string, KeyObject>();
  const retired = new Map<string, KeyRetirement>();
  try {
    for (const source of keySources) {
      const loaded = await loadKeys(source, ctx);
      for (const [keyId, key] of loaded.keys) keys.set(keyId, key);
      for (const [keyId, r] of loaded.retired) retired.set(keyId, r);
    }
  } catch (err) {
    ctx.stderr.write(`countersign verify: ${shownError(err)}\n`);
    return 2;
  }

  let input: NodeJS.ReadableStream;
  let expectedLines: number | undefined;
  if (file === '-') {
    input = ctx.stdin ?? process.stdin;
  } else {
    const path = resolve(ctx.cwd, file);
    try {
      const stat = statSync(path);
      if (!stat.isFile()) throw new Error(`${file} is not a file`);
      // A guess from the size (see expectedLines): a wrong one changes only how fast, never the report.
      expectedLines = Math.floor(stat.size / BYTES_PER_LINE);
    } catch (err) {
      ctx.stderr.write(`countersign verify: cannot read ${shownLine(file)}: ${shownLine((err as NodeJS.ErrnoException).code ?? (err as Error).message)}\n`);
      return 2;
    }
    input = createReadStream(path);
  }

  let report: VerifyReport;
  try {
    report = await verifyExportParallel(linesOf(input as AsyncIterable<Uint8Array | string>), keys, {
      requireTrailer: !parsed.values['allow-no-trailer'],
      retired,
      ...(threads === undefined ? {} : { threads }),
      ...(expectedLines === undefined ? {} : { expectedLines }),
    });
  } catch (err) {
    // Neither a read error nor a failed verifying thread is a verdict on the evidence: say
    // so, never report the export as verified or as tampered with.
    if (err instanceof VerifyThreadError) ctx.stderr.write(`countersign verify: verification did not finish: ${shownError(err)}\n`);
    else ctx.stderr.write(`countersign verify: cannot read ${shownLine(file)}: ${shownError(err)}\n`);
    return 2;
  }

  if (parsed.values.json) ctx.stdout.write(`${terminalJson(report)}\n`);
  else ctx.stdout.write(describe(report));
  return report.ok ? 0 : 1;
}

function describe(report: VerifyReport): string {
  const problem = report.problems[0];
  if (!report.ok) {
    if (!problem) return 'FAILED\n';
    const seq = problem.seq === undefined ? '' : `, seq ${shownLine(problem.seq)}`;
    const verified = report.records > 0 ? ` (${report.records} records before it verified, seq ${shownLine(report.firstSeq)}..${shownLine(report.lastSeq)})` : '';
    return `FAILED: line ${problem.line}${seq}: ${shownLine(problem.code)}: ${shownLine(problem.message)}${verified}\n`;
  }
  const selection = report.trailer?.selection;
  let out = report.records === 0 ? 'OK: 0 records\n' : `OK: ${report.records} records, seq ${shownLine(report.firstSeq)}..${shownLine(report.lastSeq)}, last hash ${shownLine(report.lastHash)}\n`;
  if (selection) {
    // The filter is what the exporter asked for (a resource prefix, a requester): caller text.
    const filter = Object.entries(selection.filter).map(([k, v]) => `${shownLine(k)}=${shownLine(v)}`).join(' ');
    out += `selection: the actions matching ${filter}; seq gaps are by design. The signed trailer's count and digest (${shownLine(selection.digest)}) match every record, so none was removed, added or swapped\n`;
  }
  if (report.annotated > 0) {
    const what = report.addedColumns.length > 0 ? 'what was approved (subject: type, resource, summary, params) or cells in added columns' : 'what was approved (subject: type, resource, summary, params)';
    out += `note: ${report.annotated} records carry ${what}, an annotation no signature covers: ignored by verify, not evidence\n`;
  }
  if (report.addedColumns.length > 0) {
    // A warning, each name escaped: whatever an added column is called, its cells may say
    // anything, and a name made to pass for a checked column must look different here.
    const shown = report.addedColumns.slice(0, 50).map(shownColumn).join(', ') + (report.addedColumns.length > 50 ? `, and ${report.addedColumns.length - 50} more` : '');
    const count = report.addedColumns.length === 1 ? '1 column' : `${report.addedColumns.length} columns`;
    out += `warning: ${count} not written by the export, covered by no signature (their cells may say anything; only the export's own columns are evidence): ${shown}\n`;
  }
  if (report.formulaRows > 0) {
    // Counted over shown columns, a spreadsheet's own ones included (a negative number there
    // counts too), and the header row when a column's name would run (no export writes one).
    const rows = report.formulaRows === 1 ? '1 row has' : `${report.formulaRows} rows have`;
    out += `warning: ${rows} (the header counts as a row) a cell a spreadsheet may run as a formula (it begins with =, +, -, @, a tab, a carriage return, or spaces then one of the first four, with no apostrophe before it): the records verify, but the file was edited, or exported before exports wrote that apostrophe; import it as text, do not open it\n`;
  }
  // Also, and above all, when there are no records: the whole export may have been cut off.
  const noTrailer = report.trailer ? '' : 'note: no trailer; records cut off the end would go unnoticed\n';
  if (report.records === 0) return out + noTrailer;
  if (!selection && report.anchor !== null && report.anchor !== GENESIS_HASH) {
    out += `note: partial export; seq ${shownLine(report.firstSeq)} links to ${shownLine(report.anchor)} (the hash of seq ${shownLine((report.firstSeq ?? 1) - 1)} in an earlier export)\n`;
  }
  return out + noTrailer;
}

type LoadedKeys = { keys: Map<string, KeyObject>; retired: Map<string, KeyRetirement> };

async function loadKeys(source: string, ctx: CliContext): Promise<LoadedKeys> {
  if (/^https?:\/\//i.test(source)) {
    let response: Response;
    try {
      response = await fetch(source, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
    } catch (err) {
      // fetch says only "fetch failed"; the reason (refused, unknown host, certificate) is its cause.
      throw new Error(`cannot fetch ${source}: ${fetchFailure(err)}`);
    }
    if (!response.ok) throw new Error(`${source} answered HTTP ${response.status}`);
    try {
      const jwks: unknown = await response.json();
      return { keys: publicKeysFromJwks(jwks), retired: retirementsFromJwks(jwks) };
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`);
    }
  }
  let text: string;
  try {
    text = readFileSync(resolve(ctx.cwd, source), 'utf8');
  } catch (err) {
    throw new Error(`cannot read key file ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    // A JWKS file may carry retired keys' ranges; a PEM file has none.
    const keys = publicKeysFromText(text);
    const retired = text.trimStart().startsWith('{') ? retirementsFromJwks(JSON.parse(text)) : new Map<string, KeyRetirement>();
    return { keys, retired };
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}

function fetchFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer within 10 seconds';
  const cause = err instanceof Error ? (err.cause as (Error & { code?: string }) | undefined) : undefined;
  if (cause instanceof Error) {
    // A refused connection can come as an AggregateError (one per address tried), message ''.
    const inner = cause instanceof AggregateError ? (cause.errors[0] as (Error & { code?: string }) | undefined) : undefined;
    return cause.message || inner?.message || cause.code || inner?.code || cause.name;
  }
  return err instanceof Error ? err.message : String(err);
}

function usage(ctx: CliContext, message: string): number {
  ctx.stderr.write(`countersign verify: ${message}\n${USAGE}`);
  return 2;
}

/** Shown by `countersign verify --help`. */
export { USAGE as usage };
