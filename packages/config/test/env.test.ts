import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commaList, parseEnv, SettingsError, settingsIssue } from '../src/env.ts';

const Schema = z
  .object({
    PORT: z.coerce.number().int().min(1).max(65535).default(8080),
    TOKEN: z.string().regex(/^tok-/, 'must be a token (tok-…)').optional(),
    ROLES: commaList('auditor'),
  })
  .superRefine((s, ctx) => {
    if (s.PORT === 1 && !s.TOKEN) settingsIssue(ctx, 'TOKEN', 'required with PORT=1');
  });

describe('parseEnv', () => {
  it('applies defaults and transforms', () => {
    expect(parseEnv(Schema, {})).toEqual({ PORT: 8080, ROLES: ['auditor'] });
    expect(parseEnv(Schema, { PORT: '9000', ROLES: ' a, b ,,c ' })).toEqual({ PORT: 9000, ROLES: ['a', 'b', 'c'] });
    expect(parseEnv(Schema, { ROLES: '' }).ROLES).toEqual([]);
  });

  it('lists every bad variable by name with its reason, in one SettingsError', () => {
    let caught: unknown;
    try {
      parseEnv(Schema, { PORT: 'lots', TOKEN: 'secret-value' }, 'test');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SettingsError);
    const message = (caught as Error).message;
    expect(message).toMatch(/^invalid test configuration:\n/);
    expect(message).toMatch(/✖ .*\n\s*→ at PORT/);
    expect(message).toMatch(/✖ must be a token \(tok-…\)\n\s*→ at TOKEN/);
    // The value is never echoed: some variables are secrets.
    expect(message).not.toContain('secret-value');
  });

  it('reports a rule across variables on the variable to change', () => {
    expect(() => parseEnv(Schema, { PORT: '1' })).toThrow(/✖ required with PORT=1\n\s*→ at TOKEN/);
  });
});
