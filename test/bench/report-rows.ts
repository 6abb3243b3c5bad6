import type { CpuUsed } from './cpu.ts';
import type { LoadResult } from './loadgen.ts';
import type { McpProxyBenchResult } from './mcp-proxy.ts';
import type { Report } from './report.ts';

// Rows of the bench table for the request-path measures: policy, auto-decide, floor, verify, MCP.

/** A field's unit and figure name from its name: p99Micros → p99 µs, recordsPerSecond → records/s, p50OverX → ratio. */
function unitOf(key: string): { name: string; unit: string } {
  const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const per = /^(.*)MicrosPer([A-Z]\w*)$/.exec(key);
  if (per) return { name: snake(key), unit: `µs/${per[2]!.toLowerCase()}` };
  const time = /^(.+)(Micros|Ms)$/.exec(key);
  if (time) return { name: snake(time[1]!), unit: time[2] === 'Ms' ? 'ms' : 'µs' };
  const rate = /^(.+)PerSecond$/.exec(key);
  if (rate) return { name: snake(key), unit: `${snake(rate[1]!)}/s` };
  if (/^(seconds|.*Seconds)$/.test(key)) return { name: snake(key), unit: 's' };
  if (/[a-z0-9]Over[A-Z]/.test(key)) return { name: snake(key), unit: 'ratio' };
  return { name: snake(key), unit: 'count' };
}

/**
 * Every number in `value` (and in its objects, one level down) as figures under `prefix`, for
 * results that other benches own and may extend (policy, verify): new fields show up unasked.
 */
export function numericFields(r: Report, prefix: string, value: object): string[] {
  const parts: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'number') {
      const { name, unit } = unitOf(key);
      parts.push(`${name} ${r.fig(`${prefix}.${name}`, v, unit)}`);
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const inner = Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'number') as [string, number][];
      if (inner.length === 0) continue;
      const { name } = unitOf(key);
      parts.push(`${name}: ${inner.map(([k, x]) => `${unitOf(k).name} ${r.fig(`${prefix}.${name}.${unitOf(k).name}`, x, unitOf(k).unit)}`).join(', ')}`);
    }
  }
  return parts;
}

/** Records/s of a verify figure that may be a number or an object carrying `recordsPerSecond`. */
export function recordsPerSecondOf(x: unknown): number | undefined {
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (x && typeof x === 'object') {
    const v = (x as { recordsPerSecond?: unknown }).recordsPerSecond;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

export function reportLoad(r: Report, key: string, label: string, res: LoadResult, cpu: CpuUsed): void {
  r.line(
    `${label.padEnd(40)} ${r.fig(`${key}.throughput`, res.throughput, 'req/s', 0)}   p50 ${r.fig(`${key}.p50`, res.p50Ms, 'ms', 2)}   p99 ${r.fig(`${key}.p99`, res.p99Ms, 'ms', 2)}   (${r.fig(`${key}.requests`, res.requests, 'count', 0)} requests, ${r.fig(`${key}.errors`, res.errors, 'count', 0)} errors)`,
  );
  const per = Math.max(1, res.answered);
  const parts = Object.entries(cpu.seconds).map(([name, s]) => {
    const id = name.replace(/\W+/g, '_');
    return `${name} ${r.fig(`${key}.cpu.${id}`, (s * 1e6) / per, 'µs/req', 0)} (${r.fig(`${key}.cpu.${id}.core_share`, (s / res.seconds) * 100, '%', 0)} of a core)`;
  });
  const commits = cpu.commits === undefined ? '' : `; ${r.fig(`${key}.write_transactions`, cpu.commits, 'count', 0)} write transactions`;
  r.line(`    cpu: ${parts.join(', ')}${commits}`);
}

export function reportMcp(r: Report, mcp: McpProxyBenchResult | string): void {
  if (typeof mcp === 'string') {
    r.line(mcp);
    return;
  }
  r.line(
    `MCP proxy, auto-approved tools/call (${r.fig('mcp.calls', mcp.calls, 'count', 0)} calls, Streamable HTTP): direct p50 ${r.fig('mcp.direct.p50', mcp.direct.p50Ms, 'ms')}, ` +
      `through the proxy p50 ${r.fig('mcp.proxied.p50', mcp.proxied.p50Ms, 'ms')} (p95 ${r.fig('mcp.proxied.p95', mcp.proxied.p95Ms, 'ms')}): ` +
      `+${r.fig('mcp.added_p50', mcp.addedP50Ms, 'ms')}, ×${r.fig('mcp.ratio_p50', mcp.ratioP50, 'ratio')}`,
  );
}
