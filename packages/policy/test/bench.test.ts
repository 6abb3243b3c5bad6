import { describe, expect, it } from 'vitest';
import { benchPolicy, guardedPolicyText } from '../bench/evaluate.bench.ts';
import { loadPolicy } from '../src/index.ts';
import { channels } from './helpers.ts';

// Keeps the benchmark runnable; timing targets are checked by running it, not here (CI
// machines are too noisy for a hard latency assertion).
describe('benchPolicy', () => {
  it('runs the 50-rule and the 1,000-rule guarded policies and reports percentiles', () => {
    const result = benchPolicy(300);
    expect(result.rules).toBe(50);
    expect(result.p50Micros).toBeGreaterThan(0);
    expect(result.p99Micros).toBeGreaterThanOrEqual(result.p50Micros);
    expect(result.meanMicros).toBeGreaterThan(0);
    expect(result.guarded.rules).toBe(1000);
    expect(result.guarded.p99Micros).toBeGreaterThanOrEqual(result.guarded.p50Micros);
    expect(result.guarded.p50OverFiftyRule).toBeGreaterThan(0);
  });

  it('the guarded policy has one guard per rule, on the resource each names', () => {
    const policy = loadPolicy(guardedPolicyText(10), 'guarded.yaml', { channels });
    expect(policy.rules.map((r) => r.guard)).toEqual(Array.from({ length: 10 }, (_, i) => ({ path: ['action', 'resource'], literal: `res-${i}` })));
  });
});
