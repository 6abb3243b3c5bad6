// The SDK from its source, as the other workspaces here use it (`@countersign/sdk` resolves to
// its build, dist/, which a fresh checkout does not have). The SDK holds the one Retry-After
// parser and the one classifier of failed outbound requests: it is published on its own and
// may depend on nothing of ours, so the server's side imports them from it.
export { networkFailure, retryAfterMs } from '../../../packages/sdk/src/index.ts';
