// Summarise a .cpuprofile: self time by function and by package/file, and inclusive time by our functions.
import fs from 'node:fs';
// --window=FROM,TO (CLOCK_MONOTONIC µs, as the stages bench prints with BENCH_PROFILE_DIR):
// only the samples taken in that window, e.g. one phase of the stages bench.
const windowArg = process.argv.find((a) => a.startsWith('--window='));
const args = process.argv.filter((a) => !a.startsWith('--window='));
const prof = JSON.parse(fs.readFileSync(args[2], 'utf8'));
const top = Number(args[3] ?? 40);
if (windowArg) {
  const [from, to] = windowArg.slice('--window='.length).split(',').map(Number);
  let t = prof.startTime;
  const keep = prof.samples.map((_, i) => (t += prof.timeDeltas[i]) >= from && t <= to);
  prof.samples = prof.samples.filter((_, i) => keep[i]);
  prof.timeDeltas = prof.timeDeltas.filter((_, i) => keep[i]);
}
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const self = new Map(), byFile = new Map(), incl = new Map();
const where = (cf) => {
  const u = cf.url || '(native)';
  const m = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return 'npm:' + m[1];
  const w = u.match(/\/work\/main\/(.*)/);
  return w ? w[1] : u.replace(/^node:/, 'node:');
};
for (const [id, t] of dt) {
  const n = nodes.get(id);
  const cf = n.callFrame;
  const key = `${cf.functionName || '(anon)'} ${where(cf)}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + t);
  byFile.set(where(cf), (byFile.get(where(cf)) ?? 0) + t);
  // inclusive: walk up, count each distinct key once per sample path
  const seen = new Set();
  let cur = id;
  while (cur !== undefined) {
    const c = nodes.get(cur).callFrame;
    const k = `${c.functionName || '(anon)'} ${where(c)}:${c.lineNumber + 1}`;
    if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + t); }
    cur = parent.get(cur);
  }
}
const ms = (t) => (t / 1000).toFixed(0).padStart(7) + ' ms';
console.log('total', ms(total));
console.log('\n== self by file/package ==');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(ms(t), (100 * t / total).toFixed(1).padStart(5) + '%', k);
console.log('\n== self by function ==');
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(ms(t), (100 * t / total).toFixed(1).padStart(5) + '%', k);
console.log('\n== inclusive (our code + selected) ==');
for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).filter(([k]) => args[4] ? new RegExp(args[4]).test(k) : !k.includes('npm:') && !k.includes('node:')).slice(0, top)) console.log(ms(t), (100 * t / total).toFixed(1).padStart(5) + '%', k);
