import fs from 'node:fs';
import { once } from 'node:events';
import type { CliContext } from '../registry.ts';
import { openEngine } from '../engine.ts';
import { parseCli } from '../args.ts';
import { isTerminal, shownLine } from '../terminal.ts';

const USAGE = 'usage: countersign export [--format jsonl|csv] [--from ISO] [--to ISO] [--out FILE]\n  writes to FILE or to a pipe, never to a terminal (the export holds what callers wrote, byte for byte)\n';

/** Writes the approval history with its artifacts and a signed trailer (same format as the API). */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  let values;
  try {
    ({ values } = parseCli(args, {
      format: { type: 'string', default: 'jsonl' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
    }));
  } catch (err) {
    ctx.stderr.write(`${shownLine((err as Error).message)}\n${USAGE}`);
    return 2;
  }
  const format = values.format;
  if (format !== 'jsonl' && format !== 'csv') {
    ctx.stderr.write(`--format must be jsonl or csv\n${USAGE}`);
    return 2;
  }
  const range: { from?: Date; to?: Date } = {};
  for (const k of ['from', 'to'] as const) {
    const v = values[k];
    if (v === undefined) continue;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) {
      ctx.stderr.write(`--${k} is not a date: ${shownLine(v)}\n`);
      return 2;
    }
    range[k] = d;
  }
  // The export is evidence, byte for byte: what callers wrote is in it as they wrote it (a CSV
  // cell keeps a carriage return or an escape sequence raw). It goes to a file or a pipe, never
  // to a terminal that would act on those bytes; marking them would break the signatures.
  if (!values.out && isTerminal(ctx.stdout)) {
    ctx.stderr.write('countersign export: not writing the export to a terminal (it carries what callers wrote, control characters included): use --out FILE, or a pipe\n');
    return 2;
  }
  const engine = openEngine(ctx);
  const out = values.out ? fs.createWriteStream(values.out) : ctx.stdout;
  try {
    for await (const line of engine.audit.lines({ format, range })) {
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    await engine.close();
    if (values.out) {
      (out as fs.WriteStream).end();
      await once(out, 'finish');
    }
  }
  return 0;
}

/** Shown by `countersign export --help`. */
export { USAGE as usage };
