import fs from 'node:fs';
import path from 'node:path';
import { contentDigest } from '@countersign/directory';
import type { TestService } from './service.ts';

/**
 * Writes the service's directory file and waits until the service has accepted (and sealed)
 * exactly that text: what a test does next then runs against the new directory.
 */
export async function setDirectory(t: TestService, text: string): Promise<void> {
  fs.writeFileSync(path.join(t.configDir, 'directory.yaml'), text);
  const want = contentDigest(text);
  const until = Date.now() + 10_000;
  while (t.service.gate.deps.config.current().directory.digest !== want) {
    if (Date.now() > until) throw new Error('the directory change was not accepted');
    await new Promise((r) => setTimeout(r, 25));
  }
}
