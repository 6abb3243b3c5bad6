import fs from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { ensureChromium } from '../../packages/devstack/src/chromium-install.ts';

// Debian's chromium driven by puppeteer-core (which never downloads a browser). Each person
// gets a browser context of their own: separate cookies, like separate machines.

export const SCREENSHOTS = path.resolve(import.meta.dirname, '..', '..', '.countersign', 'test', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  const executablePath = ensureChromium((line) => process.stderr.write(`${line}\n`));
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container: Chromium's sandbox needs user namespaces we may not have.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--lang=en-GB'],
  });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Console-side errors seen by this page (CSP violations, script errors). */
  problems: string[];
}

export async function personBrowser(browser: Browser): Promise<Person> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

/** Signs in through the embedded development identity provider (any password). */
export async function signIn(p: Person, consoleUrl: string, login: string, returnTo = '/console'): Promise<void> {
  await p.page.goto(`${consoleUrl}${returnTo}`, { waitUntil: 'load' });
  await p.page.waitForSelector('input[name="login"]');
  await p.page.type('input[name="login"]', login);
  await p.page.type('input[name="password"]', 'any password will do');
  await Promise.all([p.page.waitForNavigation({ waitUntil: 'load' }), p.page.click('button[type="submit"]')]);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`) as `${string}.png`;
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export async function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (el as HTMLElement).innerText);
}
