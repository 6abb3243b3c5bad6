import { pooledRandomBytes } from './random-pool.ts';

// Ids carry a prefix so a log line or a support ticket says what it names (act_…, vote_…).
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
export function randomId(prefix: 'act' | 'vote' | 'key' | 'req', length = 20): string {
  const bytes = pooledRandomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 36];
  return `${prefix}_${out}`;
}
