import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../src/routes/auth.ts';

// After sign-in the browser goes back where it was, and only ever to a console page: never
// another site, and never out of the console through a dot segment the browser resolves.

describe('safeReturnTo', () => {
  it.each(['/console', '/console/actions/act_aaaaaaaaaaaaaaaaaaaa', '/console/history?status=pending&from=2026-01-01', '/console/file.v2'])('keeps %s', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    '//evil.example',
    'https://evil.example/console',
    '/console//evil.example',
    '/console/../x',
    '/console/../../admin',
    '/console/./history',
    '/console/%2e%2e/x',
    '/console/.%2E/x',
    '/console/..?x=1',
    '/consolex',
    '/console\\evil',
    undefined,
    42,
  ])('refuses %s (back to /console)', (path) => {
    expect(safeReturnTo(path)).toBe('/console');
  });
});
