import { ensureAptExecutable } from './apt-install.ts';

/**
 * Returns the path of Debian's chromium (the console's browser tests drive it with
 * puppeteer-core), installing it with apt-get first when it is missing and we are root (a
 * fresh CI machine). Never a browser downloaded by an npm package.
 */
export function ensureChromium(log: (line: string) => void = console.log): string {
  return ensureAptExecutable({
    executable: 'chromium',
    packages: ['chromium'],
    manualFix: 'install it (Debian/Ubuntu: sudo apt-get install -y chromium) for the console browser tests',
    log,
  });
}
