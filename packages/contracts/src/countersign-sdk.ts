// The SDK from its source, as the other workspaces here use it (`@countersign/sdk` resolves to
// its build, dist/, which a fresh checkout does not have). The SDK is published on its own and
// may depend on nothing of ours, so it holds the one intent normalisation (the rule a release
// token's hash is computed over) and the wire type of an intent; the schema here uses both.
export { normaliseIntent, type IntentInput } from '../../sdk/src/index.ts';
