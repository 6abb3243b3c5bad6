// The SDK from its source, as the other workspaces here use it (`@countersign/sdk` resolves to
// its build, dist/, which a fresh checkout does not have). The SDK is published on its own and
// may depend on nothing of ours, so it holds the one intent normalisation (the rule a release
// token's hash is computed over) and the wire types: the intent a caller sends (the schema here
// uses both) and the action the API answers with (the engine's view extends it).
export { normaliseIntent, type IntentInput, type Action as ActionWire, type ReleaseFailure } from '../../sdk/src/index.ts';
