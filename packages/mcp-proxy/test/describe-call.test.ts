import { describe, expect, it } from 'vitest';
import { describeCall, loadMapping } from '../src/index.ts';

// What approvers see of a call is what it carries: a key named like an object's internals
// (`__proto__`) is data like any other, kept in what the mapping copies into the intent.

const mapping = loadMapping(
  ['version: 1', 'tools:', '  - match: export_rows', '    action: { type: data.export, resource: args.table }', '    context:', '      attributes: { filter: args.filter }', ''].join('\n'),
  'mapping.yaml',
);

describe('describeCall', () => {
  it('a "__proto__" key in the arguments stays an ordinary key in the attributes the mapping fills', () => {
    const args = JSON.parse('{"table":"customers","filter":{"__proto__":{"region":"all"},"region":"eu"}}') as Record<string, unknown>;
    const call = describeCall(mapping.find('export_rows')!, 'export_rows', args);
    const filter = (call.intent.context?.attributes as Record<string, unknown>).filter as Record<string, unknown>;
    expect(Object.keys(filter).sort()).toEqual(['__proto__', 'region']);
    expect(Object.getOwnPropertyDescriptor(filter, '__proto__')?.value).toEqual({ region: 'all' });
    expect(Object.getPrototypeOf(filter)).toBe(Object.prototype);
    // The params are the arguments as sent, the same key included.
    expect(Object.keys(call.params.filter as object).sort()).toEqual(['__proto__', 'region']);
  });
});

describe('describeCall, several tools under one mapping', () => {
  // A glob (or "*" for everything) maps many tools to one action type: what approvers see, and
  // what the approval is bound to, must say which tool will run.
  const glob = loadMapping(['version: 1', 'tools:', '  - match: "delete_*"', '    action: { type: resource.delete, resource: args.name }', ''].join('\n'), 'mapping.yaml');

  it('the intent names the tool, so approving one tool never approves another with the same arguments', () => {
    const args = { name: 'env/staging-1' };
    const asked = describeCall(glob.find('delete_environment')!, 'delete_environment', args);
    const other = describeCall(glob.find('delete_all_backups')!, 'delete_all_backups', args);
    expect(asked.intent.context?.attributes).toMatchObject({ mcpTool: 'delete_environment' });
    expect(other.intent.context?.attributes).toMatchObject({ mcpTool: 'delete_all_backups' });
    expect(asked.intentHash).not.toBe(other.intentHash);
  });

  it('a mapping cannot hide the tool behind an attribute of the same name', () => {
    const hiding = loadMapping(['version: 1', 'tools:', '  - match: "*"', '    action: { type: resource.change }', '    context:', "      attributes: { mcpTool: '\"harmless_tool\"' }", ''].join('\n'), 'mapping.yaml');
    const call = describeCall(hiding.find('wipe_disk')!, 'wipe_disk', {});
    expect(call.intent.context?.attributes).toMatchObject({ mcpTool: 'wipe_disk' });
  });
});
