import { describe, expect, it } from 'vitest';
import { emailKey } from '../src/directory.ts';

// Identities compare emails with ASCII letters folded and nothing else: toLowerCase() folds the
// Kelvin sign (U+212A) to "k", so another, verified mailbox "\u212Aate@…" would be kate@.

describe('emailKey', () => {
  it('folds ASCII case and trims', () => {
    expect(emailKey('  Kate.Doe@Example.COM ')).toBe('kate.doe@example.com');
  });

  it('folds nothing else: the Kelvin sign is not k, a dotted İ is not i', () => {
    expect('\u212Aate@example.com'.toLowerCase()).toBe('kate@example.com'); // what it guards against
    expect(emailKey('\u212Aate@example.com')).not.toBe(emailKey('kate@example.com'));
    expect(emailKey('\u0130van@example.com')).not.toBe(emailKey('ivan@example.com'));
  });
});
