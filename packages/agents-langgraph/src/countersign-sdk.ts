// The SDK from its source, as every other workspace here uses it: `@countersign/sdk` resolves to
// its build (dist/), which a fresh checkout does not have until `npm run build -w @countersign/sdk`.
// One line to change when the SDK is consumed from its published build.
export * from '../../sdk/src/index.ts';

import type { Countersign } from '../../sdk/src/index.ts';
/** The client the adapter needs, by shape: a `Countersign` from the SDK's build or its source both fit. */
export type CountersignClient = Pick<Countersign, 'submit' | 'get' | 'waitForDecision' | 'authorize' | 'guard' | 'cancel'>;
