import { createHash } from 'node:crypto';

/** sha256 hex of a configuration file's bytes: what verdicts and artifacts record as its digest. */
export function contentDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
