import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ed25519Backend } from '@countersign/evidence';
import { z } from 'zod';
import type { Figure, Report } from './report.ts';

// .countersign/bench/results.json: the machine, every figure the table printed, and the ratios
// between figures of the same run (absolute figures do not carry from one machine to another;
// ratios measured in one run do). The shape is checked before it is written.

export const RATIO_NAMES = [
  'gate_over_floor',
  'sustained_escalations_over_auto',
  'click_p95_over_auto_p99',
  'verify_parallel_over_single',
  'scaleout_auto',
  'scaleout_escalations',
] as const;
export type RatioName = (typeof RATIO_NAMES)[number];

const Ratio = z.number().nonnegative().nullable();

export const BenchResultsSchema = z.strictObject({
  machine: z.strictObject({
    cpus: z.int().positive(),
    model: z.string(),
    memoryGiB: z.number().positive(),
    node: z.string(),
    /** Who computed Ed25519 in the service (its signatures are a large share of a decision's CPU). */
    ed25519: z.enum(['libsodium', 'openssl']),
    openssl: z.string(),
    os: z.string(),
    load1: z.strictObject({ start: z.number().nonnegative(), end: z.number().nonnegative() }),
    at: z.iso.datetime(),
  }),
  figures: z
    .array(z.strictObject({ name: z.string().min(1), value: z.number().nullable(), unit: z.string().min(1) }))
    .refine((fs) => new Set(fs.map((f) => f.name)).size === fs.length, 'figure names are unique'),
  ratios: z.strictObject(Object.fromEntries(RATIO_NAMES.map((n) => [n, Ratio])) as Record<RatioName, typeof Ratio>),
});
export type BenchResults = z.infer<typeof BenchResultsSchema>;

export interface MachineAtStart {
  at: string;
  load1: number;
}

export function machineAtStart(): MachineAtStart {
  return { at: new Date().toISOString(), load1: os.loadavg()[0]! };
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) return `${pretty}, ${os.type()} ${os.release()}`;
  } catch {
    // not Linux, or no os-release: the kernel's name is enough
  }
  return `${os.type()} ${os.release()}`;
}

export function machine(start: MachineAtStart): BenchResults['machine'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    // The services the bench starts read the same COUNTERSIGN_ED25519 as this process.
    ed25519: ed25519Backend(),
    openssl: process.versions.openssl,
    os: osName(),
    load1: { start: start.load1, end: os.loadavg()[0]! },
    at: start.at,
  };
}

/** The figure named `ratios.<name>` for each ratio: the table prints them like every figure. */
export function ratioFigureName(name: RatioName): string {
  return `ratios.${name}`;
}

/** The ratios section of the table: each ratio a figure named `ratios.<name>`, with what it divides. */
export function reportRatios(r: Report, ratios: Record<RatioName, { value: number | null; says: string }>): void {
  r.line('ratios (same run):');
  for (const name of RATIO_NAMES) {
    const { value, says } = ratios[name];
    r.line(`  ${name.padEnd(34)} ${r.fig(ratioFigureName(name), value, 'ratio', 3).padStart(6)}   ${says}`);
  }
}

/** The results from a finished report; throws (naming the problem) if the shape is wrong. */
export function buildResults(machineInfo: BenchResults['machine'], figures: Figure[]): BenchResults {
  const byName = new Map(figures.map((f) => [f.name, f]));
  const ratios = Object.fromEntries(
    RATIO_NAMES.map((n) => {
      const f = byName.get(ratioFigureName(n));
      if (!f) throw new Error(`bench report has no figure ${ratioFigureName(n)}`);
      return [n, f.value];
    }),
  ) as Record<RatioName, number | null>;
  return BenchResultsSchema.parse({ machine: machineInfo, figures, ratios });
}

/** Writes results.json (and details.json, the raw measurements, beside it). */
export function writeResults(dir: string, report: Report, machineInfo: BenchResults['machine'], details: unknown): string {
  const results = buildResults(machineInfo, report.figures);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'results.json');
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'details.json'), JSON.stringify(details, null, 2) + '\n');
  return file;
}
