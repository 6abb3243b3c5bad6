import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent } from 'undici';
import { addressAllowed } from '@countersign/core';

// The connection pool every outbound webhook and execution goes through. Its DNS lookup is
// the check: a name the allow-list accepted must resolve to public addresses only, and the
// connection is made to exactly the addresses that were checked (no second lookup a DNS
// rebinding could answer differently). An IP literal never reaches this lookup; the
// allow-list accepted it only because an entry names that very address.

/** The code of the connect error raised when an allowed name resolves to an internal address. */
export const INTERNAL_ADDRESS = 'EINTERNALADDRESS';

export class InternalAddressError extends Error {
  readonly code = INTERNAL_ADDRESS;
  constructor(hostname: string) {
    super(`${hostname} resolves to an internal address, which no allow-list entry names`);
    this.name = 'InternalAddressError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export function guardedLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const all = addresses as LookupAddress[];
    // Every address must pass, not just one: a resolver may rotate between them later.
    if (all.length === 0 || all.some((a) => !addressAllowed(hostname, a.address))) return callback(new InternalAddressError(hostname), []);
    if (options.all) return callback(null, all);
    callback(null, all[0]!.address, all[0]!.family);
  });
}

export const guardedAgent = new Agent({ connect: { lookup: guardedLookup as never } });
