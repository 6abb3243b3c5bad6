// The bench's table and its machine-readable figures from one source: every number printed goes
// through `fig()`, which records it under a stable name with its unit, so results.json holds
// exactly what the table shows.

export interface Figure {
  name: string;
  /** null: not measured in this run (printed as n/a). */
  value: number | null;
  unit: string;
}

/** How a unit shows after a printed value; others print after a space. */
const SUFFIX: Record<string, string> = { ratio: '', count: '', load: '', '%': '%' };

/** Digits after the point for a value of this size: about 3 significant, never more than 2. */
function autoDigits(v: number): number {
  if (Number.isInteger(v)) return 0;
  const a = Math.abs(v);
  return a >= 100 ? 0 : a >= 10 ? 1 : 2;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly lines: string[] = [];
  private readonly names = new Set<string>();

  /**
   * Records a figure and returns it as printed ("1532 /s", "18.2 ms"). Names are unique in a
   * report: recording one twice is a bug in the bench.
   */
  fig(name: string, value: number | null | undefined, unit: string, digits?: number): string {
    if (this.names.has(name)) throw new Error(`bench figure ${name} recorded twice`);
    this.names.add(name);
    const v = value === undefined || value === null || !Number.isFinite(value) ? null : value;
    const d = v === null ? 0 : (digits ?? autoDigits(v));
    const rounded = v === null ? null : Number(v.toFixed(d));
    this.figures.push({ name, value: rounded, unit });
    if (rounded === null) return 'n/a';
    const text = rounded.toFixed(d);
    return `${text}${SUFFIX[unit] ?? ` ${unit}`}`;
  }

  line(text = ''): void {
    this.lines.push(text);
  }
}
