import { describe, expect, it } from 'vitest';
import { benchPolicy } from '../bench/evaluate.bench.ts';

// Keeps the benchmark runnable; timing targets are checked by running it, not here (CI
// machines are too noisy for a hard latency assertion).
describe('benchPolicy', () => {
  it('runs the 50-rule policy and reports percentiles', () => {
    const result = benchPolicy(300);
    expect(result.rules).toBe(50);
    expect(result.p50Micros).toBeGreaterThan(0);
    expect(result.p99Micros).toBeGreaterThanOrEqual(result.p50Micros);
    expect(result.meanMicros).toBeGreaterThan(0);
  });
});
