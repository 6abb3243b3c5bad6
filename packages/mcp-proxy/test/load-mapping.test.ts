import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@countersign/directory';
import { describeCall, globMatcher, loadMapping } from '../src/index.ts';
import { intentHash } from '../src/countersign-sdk.ts';

const EXAMPLE = path.resolve(import.meta.dirname, '..', '..', '..', 'examples', 'mcp-proxy.yaml');

function errorOf(text: string): ConfigError {
  try {
    loadMapping(text, 'mapping.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the mapping loaded');
}

describe('loadMapping', () => {
  it('loads the example mapping with its defaults', () => {
    const mapping = loadMapping(fs.readFileSync(EXAMPLE, 'utf8'), 'mcp-proxy.yaml');
    expect(mapping.tools.map((t) => t.match)).toEqual(['list_environments', 'delete_environment', 'describe_*']);
    expect(mapping.gate).toMatchObject({ maxWait: 900, progressEvery: 10, release: { meta: 'io.countersign/release-token' } });
    expect(mapping.find('describe_region')?.passthrough).toBe(true);
    expect(mapping.find('rotate_keys')).toBeUndefined();
  });

  it('names the line of a misspelt key', () => {
    const err = errorOf(['version: 1', 'tools:', '  - match: delete_environment', '    passtrough: true'].join('\n'));
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/^mapping\.yaml:4:\d+: .*passtrough: unknown key/);
  });

  it('names the line of a CEL expression that does not compile, and the unknown variable', () => {
    const err = errorOf(['version: 1', 'tools:', '  - match: delete_environment', '    action:', '      type: environment.delete', '      resource: argz.name'].join('\n'));
    expect(err.line).toBe(6);
    expect(err.reason).toMatch(/unknown variable "argz" \(known: args\)/);
  });

  it('refuses a tool that is neither an action nor an explicit passthrough', () => {
    const err = errorOf(['version: 1', 'tools:', '  - match: delete_environment', '    annotate: hello'].join('\n'));
    expect(err.line).toBe(3);
    expect(err.reason).toMatch(/action\.type|passthrough/);
  });

  it('refuses a passthrough that also describes an action, a bad action type and a bad duration', () => {
    expect(errorOf(['version: 1', 'tools:', '  - match: x', '    passthrough: true', '    action: { type: a.b }'].join('\n')).line).toBe(4);
    expect(errorOf(['version: 1', 'tools:', '  - match: x', '    action: { type: Delete }'].join('\n')).reason).toMatch(/domain\.verb/);
    expect(errorOf(['version: 1', 'gate:', '  maxWait: 15'].join('\n')).line).toBe(3);
  });

  it('matches the first pattern in file order; globs are * and ?', () => {
    const mapping = loadMapping(
      ['version: 1', 'tools:', '  - match: delete_prod', '    action: { type: env.delete-prod }', '  - match: "delete_*"', '    action: { type: env.delete }'].join('\n'),
      'm.yaml',
    );
    expect(mapping.find('delete_prod')?.actionType).toBe('env.delete-prod');
    expect(mapping.find('delete_staging')?.actionType).toBe('env.delete');
    expect(globMatcher('a?c')('abc')).toBe(true);
    expect(globMatcher('a.c')('abc')).toBe(false);
  });
});

describe('describeCall', () => {
  const mapping = loadMapping(fs.readFileSync(EXAMPLE, 'utf8'), 'mcp-proxy.yaml');
  const tool = mapping.find('delete_environment')!;

  it('puts the whole arguments in params and computes the other fields with CEL', () => {
    const args = { name: 'env/prod-eu-1', environment: 'production', reason: 'decommissioned', options: { force: true } };
    const { intent, params } = describeCall(tool, 'delete_environment', args);
    expect(intent).toEqual({
      action: { type: 'environment.delete', resource: 'env/prod-eu-1', summary: 'Delete the env/prod-eu-1 environment', params: args },
      context: { environment: 'production', attributes: { mcpTool: 'delete_environment' } },
      risk: { class: 'destructive', urgency: 'high' },
      justification: 'decommissioned',
    });
    expect(params).toBe(intent.action.params);
  });

  it('forwards a deeply frozen canonical copy: later changes to the caller object change nothing', () => {
    const args = { name: 'env/x', environment: 'production', options: { zeta: 1, alpha: [1, 2] } };
    const described = describeCall(tool, 'delete_environment', args);
    args.options.alpha.push(3);
    expect(JSON.stringify(described.params)).toBe('{"environment":"production","name":"env/x","options":{"alpha":[1,2],"zeta":1}}');
    expect(Object.isFrozen((described.params.options as { alpha: number[] }).alpha)).toBe(true);
    expect(() => ((described.params as Record<string, unknown>).name = 'env/other')).toThrow(TypeError);
    expect(described.intentHash).toBe(intentHash(described.intent));
  });

  it('leaves a field out when its expression gives null, and fails closed when one errors', () => {
    expect(describeCall(tool, 'delete_environment', { name: 'a', environment: 'b' }).intent.justification).toBeUndefined();
    expect(() => describeCall(tool, 'delete_environment', { environment: 'production' })).toThrow(/no such key|name/);
  });
});
