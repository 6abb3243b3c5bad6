import { DomainError } from '@countersign/contracts';

export interface PemBlock {
  label: string;
  pem: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * Split text holding one or more concatenated PEM blocks. Environment variables often carry
 * PEM with literal `\n` escapes (one-line secrets), so those are turned back into newlines.
 */
export function pemBlocks(text: string): PemBlock[] {
  const normalised = !text.includes('\n') && text.includes('\\n') ? text.replaceAll('\\n', '\n') : text;
  const blocks: PemBlock[] = [];
  for (const match of normalised.matchAll(PEM_BLOCK)) {
    blocks.push({ label: match[1] ?? '', pem: `${match[0]}\n` });
  }
  if (blocks.length === 0) throw new DomainError('internal', 'no PEM block found');
  return blocks;
}
