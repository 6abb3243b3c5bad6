// Bench diagnostics (BENCH_EXTRA_IMPORT=test/bench/count-queries.mjs): counts every SQL statement the
// service process sends, by text and by the first of our stack frames, written at exit (to
// BENCH_QUERY_COUNTS, or /tmp/query-counts-<pid>.txt: one file per process).
const root = new URL('../../', import.meta.url).pathname;
import { createRequire } from 'node:module';
import fs from 'node:fs';
const require = createRequire(new URL('../../packages/db/package.json', import.meta.url));
const pg = require('pg');
const counts = new Map();
const orig = pg.Client.prototype.query;
pg.Client.prototype.query = function (q, ...rest) {
  const text = typeof q === 'string' ? q : q?.text ?? String(q);
  Error.stackTraceLimit = 60;
  const st = (new Error().stack ?? '').split('\n').filter((l) => l.includes(root) && !l.includes('node_modules')).map((l) => l.replace(root, '').replace(/:\d+\)?$/, '')).slice(0, 6).join(' < ');
  const k = text.replace(/\s+/g, ' ').slice(0, 60) + '\n          ' + st;
  counts.set(k, (counts.get(k) ?? 0) + 1);
  return orig.call(this, q, ...rest);
};
process.on('exit', () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]);
  fs.writeFileSync(process.env.BENCH_QUERY_COUNTS ?? `/tmp/query-counts-${process.pid}.txt`, rows.map(([k, n]) => `${String(n).padStart(7)} ${k}`).join('\n'));
});
