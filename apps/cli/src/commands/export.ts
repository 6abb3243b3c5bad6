import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FilterInstantSchema, filterInstant } from '@countersign/contracts';
import type { CliContext } from '../registry.ts';
import { openEngine, type LocalEngine } from '../engine.ts';
import { parseCli } from '../args.ts';
import { isTerminal, shownLine } from '../terminal.ts';

const USAGE = 'usage: countersign export [--format jsonl|csv] [--from ISO] [--to ISO] [--out FILE]\n  --from, --to  an ISO-8601 date (midnight UTC) or date-time with offset, 1970 to 9999; from before to\n  writes to FILE or to a pipe, never to a terminal (the export holds what callers wrote, byte for byte)\n';

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = {
  format: { type: 'string', default: 'jsonl' },
  from: { type: 'string' },
  to: { type: 'string' },
  out: { type: 'string' },
} as const;

/** Writes the approval history with its artifacts and a signed trailer (same format as the API). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseCli(args, options));
  } catch (err) {
    ctx.stderr.write(`${shownLine((err as Error).message)}\n${USAGE}`);
    return 2;
  }
  if (positionals.length > 0) {
    ctx.stderr.write(`unexpected argument "${shownLine(positionals[0])}"\n${USAGE}`);
    return 2;
  }
  const format = values.format;
  if (format !== 'jsonl' && format !== 'csv') {
    ctx.stderr.write(`--format must be jsonl or csv\n${USAGE}`);
    return 2;
  }
  // Read and bounded as the API reads them (FilterInstantSchema): an ISO-8601 date (midnight
  // UTC) or date-time with offset, 1970 to 9999. `new Date` took "1" for 2001-01-01 and let a
  // year-0000 date reach Postgres, which answered with a raw driver error.
  const range: { from?: Date; to?: Date } = {};
  for (const k of ['from', 'to'] as const) {
    const v = values[k];
    if (v === undefined) continue;
    const checked = FilterInstantSchema.safeParse(v);
    if (!checked.success) {
      ctx.stderr.write(`--${k} must be ${checked.error.issues[0]?.message ?? 'a date'}, got ${shownLine(JSON.stringify(v))}\n${USAGE}`);
      return 2;
    }
    range[k] = filterInstant(checked.data);
  }
  if (range.from && range.to && range.from >= range.to) {
    ctx.stderr.write(`--from must be before --to\n${USAGE}`);
    return 2;
  }
  if (values.out === '') {
    ctx.stderr.write(`--out is empty: name the file (or leave --out out and write to a pipe)\n${USAGE}`);
    return 2;
  }
  // The export is evidence, byte for byte: what callers wrote is in it as they wrote it (a CSV
  // cell keeps a carriage return or an escape sequence raw). It goes to a file or a pipe, never
  // to a terminal that would act on those bytes; marking them would break the signatures.
  if (!values.out && isTerminal(ctx.stdout)) {
    ctx.stderr.write('countersign export: not writing the export to a terminal (it carries what callers wrote, control characters included): use --out FILE, or a pipe\n');
    return 2;
  }
  if (!values.out) {
    const engine = openEngine(ctx);
    try {
      for await (const line of engine.audit.lines({ format, range })) {
        if (!ctx.stdout.write(line)) await once(ctx.stdout, 'drain');
      }
    } finally {
      await engine.close();
    }
    return 0;
  }
  return exportToFile(values.out, ctx, (engine) => engine.audit.lines({ format, range }));
}

/**
 * The export goes to a partial file beside FILE (created new, owner-only: it holds intents) and
 * replaces FILE only once complete: a failure half-way leaves the previous export as it was,
 * where opening FILE itself would have truncated it first.
 */
async function exportToFile(target: string, ctx: CliContext, lines: (engine: LocalEngine) => AsyncIterable<string>): Promise<number> {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.partial`);
  let file: fs.promises.FileHandle;
  try {
    file = await fs.promises.open(partial, 'wx', 0o600);
  } catch (err) {
    ctx.stderr.write(`countersign export: cannot write ${shownLine(target)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 1;
  }
  let complete = false;
  try {
    const engine = openEngine(ctx);
    try {
      await pipeline(Readable.from(lines(engine)), file.createWriteStream());
    } finally {
      await engine.close();
    }
    try {
      await fs.promises.rename(partial, target);
    } catch (err) {
      ctx.stderr.write(`countersign export: cannot write ${shownLine(target)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
      return 1;
    }
    complete = true;
    return 0;
  } finally {
    await file.close().catch(() => undefined);
    if (!complete) await fs.promises.rm(partial, { force: true });
  }
}

/** Shown by `countersign export --help`. */
export { USAGE as usage };
