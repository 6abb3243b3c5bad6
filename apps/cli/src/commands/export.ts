import fs from 'node:fs';
import { once } from 'node:events';
import type { CliContext } from '../registry.ts';
import { openEngine } from '../engine.ts';
import { parseCli } from '../args.ts';

const USAGE = 'usage: countersign export [--format jsonl|csv] [--from ISO] [--to ISO] [--out FILE]\n';

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
    ctx.stderr.write(`${(err as Error).message}\n${USAGE}`);
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
      ctx.stderr.write(`--${k} is not a date: ${v}\n`);
      return 2;
    }
    range[k] = d;
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
