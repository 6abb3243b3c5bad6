import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The sample Teams app manifest the README tells operators to edit and upload: the shape Teams
// needs (a bot id to replace, the three scopes the channel uses, a domain, both icons at the
// sizes Teams requires).

const DIR = path.resolve(import.meta.dirname, '..', 'infra', 'teams');
const PLACEHOLDER = '00000000-0000-0000-0000-000000000000';

interface Manifest {
  $schema: string;
  manifestVersion: string;
  id: string;
  icons: { color: string; outline: string };
  bots: { botId: string; scopes: string[]; isNotificationOnly?: boolean }[];
  permissions?: string[];
  validDomains: string[];
  name: { short: string; full?: string };
  description: { short: string; full: string };
}

const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Manifest;

/** Width and height from a PNG's IHDR chunk (after the 8-byte signature). */
function pngSize(file: string): { width: number; height: number } {
  const png = fs.readFileSync(file);
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${file} is a PNG`).toBe(true);
  expect(png.toString('ascii', 12, 16)).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('infra/teams/manifest.json', () => {
  it('names the schema version it is written for', () => {
    expect(manifest.$schema).toContain(`/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`);
  });

  it('has one bot with a placeholder id to replace by the App ID, and the app id placeholder too', () => {
    expect(manifest.bots).toHaveLength(1);
    expect(manifest.bots[0]!.botId).toBe(PLACEHOLDER);
    expect(manifest.id).toBe(PLACEHOLDER);
  });

  it('installs in teams, group chats and personal chats, and takes clicks (not notification-only)', () => {
    expect([...manifest.bots[0]!.scopes].sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(manifest.bots[0]!.isNotificationOnly).not.toBe(true);
  });

  it('lists valid domains as bare host names', () => {
    expect(manifest.validDomains.length).toBeGreaterThan(0);
    for (const domain of manifest.validDomains) expect(domain).toMatch(/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+$/i);
  });

  it('ships both icons at the sizes Teams requires (color 192×192, outline 32×32)', () => {
    expect(pngSize(path.join(DIR, manifest.icons.color))).toEqual({ width: 192, height: 192 });
    expect(pngSize(path.join(DIR, manifest.icons.outline))).toEqual({ width: 32, height: 32 });
  });

  it('keeps the names and descriptions within Teams limits', () => {
    expect(manifest.name.short.length).toBeLessThanOrEqual(30);
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
    expect(manifest.description.full.length).toBeLessThanOrEqual(4000);
  });
});
