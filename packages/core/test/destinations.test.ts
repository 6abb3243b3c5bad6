import { describe, expect, it } from 'vitest';
import { addressAllowed, destinationAllowlist, DestinationEntryError, isInternalAddress } from '../src/destinations.ts';

// Destinations are exact: origins or prefixes ending at a path boundary, http only where an
// entry says http, wildcards for subdomains only, and a refusal never echoes the allow-list.

describe('destinationAllowlist', () => {
  const list = destinationAllowlist([
    'https://hooks.example.com/countersign',
    'https://ops.example.com',
    'http://127.0.0.1:9000/exec/',
    '*.partner.example',
    'ci.example.org',
  ]);

  it.each([
    ['https://hooks.example.com/countersign', true],
    ['https://hooks.example.com/countersign/', true],
    ['https://hooks.example.com/countersign/run?x=1', true],
    ['https://hooks.example.com/countersign-evil', false],
    ['https://hooks.example.com/countersignx/y', false],
    ['https://hooks.example.com/', false],
    ['https://ops.example.com/anything/at/all', true],
    ['https://ops.example.com:8443/x', false],
    ['http://ops.example.com/x', false],
    ['https://ops.example.com.evil.test/x', false],
    ['https://user:pw@ops.example.com/x', false],
    ['http://127.0.0.1:9000/exec/run', true],
    ['http://127.0.0.1:9000/execute', false],
    ['http://127.0.0.1:9001/exec/run', false],
    ['https://a.partner.example/hook', true],
    ['https://a.b.partner.example/hook', true],
    ['https://partner.example/hook', false],
    ['http://a.partner.example/hook', false],
    ['https://ci.example.org/build', true],
    ['http://ci.example.org/build', false],
    ['ftp://ops.example.com/x', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(list.allows(url)).toBe(allowed);
  });

  it('a wildcard never matches an IP literal (such an entry is not even accepted)', () => {
    expect(() => destinationAllowlist(['https://*.0.0.1'])).toThrow(DestinationEntryError);
    expect(destinationAllowlist(['*.example']).allows('https://127.0.0.1/x')).toBe(false);
  });

  it('says why a URL is refused without echoing the allow-list', () => {
    for (const url of ['https://evil.test/x', 'http://ops.example.com/x', 'https://hooks.example.com/countersign-evil']) {
      const why = list.check(url)!;
      expect(why).toBeTruthy();
      expect(why).not.toMatch(/example|127\.0\.0\.1|partner/);
    }
    expect(list.check('http://ops.example.com/x')).toMatch(/http/);
    expect(destinationAllowlist([]).check('https://ops.example.com')).toMatch(/no destinations/);
  });

  it('refuses a malformed entry at load, naming it', () => {
    for (const bad of ['ftp://x.example', 'https://u:p@x.example', 'https://x.example/?q=1', 'https://[bad']) {
      expect(() => destinationAllowlist([bad])).toThrow(DestinationEntryError);
    }
  });
});

describe('addresses an allowed name may resolve to', () => {
  it.each([
    ['127.0.0.1', true], ['10.1.2.3', true], ['172.16.0.1', true], ['172.31.255.255', true], ['192.168.1.1', true],
    ['169.254.169.254', true], ['100.64.0.1', true], ['0.0.0.0', true], ['::1', true], ['fd00::1', true], ['fe80::1', true],
    ['::ffff:127.0.0.1', true], ['224.0.0.1', true],
    ['93.184.216.34', false], ['172.32.0.1', false], ['8.8.8.8', false], ['2606:4700::1111', false],
  ])('%s internal: %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal);
  });

  it('an internal address only when the URL names it literally', () => {
    expect(addressAllowed('hooks.example.com', '10.0.0.5')).toBe(false);
    expect(addressAllowed('localhost', '127.0.0.1')).toBe(false);
    expect(addressAllowed('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(addressAllowed('[::1]', '::1')).toBe(true);
    expect(addressAllowed('hooks.example.com', '93.184.216.34')).toBe(true);
  });
});
