// The SDK from its source, as the other workspaces here use it (`@countersign/sdk` resolves to
// its build, dist/, which a fresh checkout does not have). The SDK holds the one Retry-After
// parser: it is published on its own and may depend on nothing of ours.
export { retryAfterMs } from '../../../packages/sdk/src/index.ts';
