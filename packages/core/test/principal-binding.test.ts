import { describe, expect, it } from 'vitest';
import { principalBinding } from '../src/keys/principal-binding.ts';

// A key is bound to its person's email: another mailbox under the same id, even one that
// toLowerCase() would fold to the same text (the Kelvin sign), is another person.

const person = (email: string) => ({ kind: 'person' as const, id: 'kate', name: 'Kate', email, roles: [] });

describe('principalBinding', () => {
  it('is the same across ASCII case and spaces, different for another mailbox', () => {
    expect(principalBinding(person(' Kate@Example.com'))).toBe(principalBinding(person('kate@example.com')));
    expect(principalBinding(person('\u212Aate@example.com'))).not.toBe(principalBinding(person('kate@example.com')));
  });
});
