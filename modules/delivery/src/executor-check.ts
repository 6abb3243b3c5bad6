import fs from 'node:fs';
import type { ChannelCatalog } from '@countersign/contracts';
import { executorDestinationProblems, loadPolicy } from '@countersign/policy';
import type { Destinations } from './destinations.ts';

/**
 * Boot-time check that every executor in the policy file points at an allowed destination.
 * The allow-list lives in the environment, so the policy package cannot check it alone; a
 * destination that fails here stops the service. Execution checks again on every send (that
 * also covers policies reloaded while running).
 */
export function checkPolicyExecutors(policyPath: string, destinations: Destinations, channels: ChannelCatalog): { checked: boolean } {
  if (!fs.existsSync(policyPath)) return { checked: false };
  const policy = loadPolicy(fs.readFileSync(policyPath, 'utf8'), policyPath, { channels });
  const problems = executorDestinationProblems(policy, (url) => destinations.executor.allows(url));
  if (problems.length > 0) {
    throw new Error(`executor destinations not allowed (set COUNTERSIGN_EXECUTOR_ALLOWLIST or COUNTERSIGN_CALLBACK_ALLOWLIST):\n  ${problems.join('\n  ')}`);
  }
  return { checked: true };
}
