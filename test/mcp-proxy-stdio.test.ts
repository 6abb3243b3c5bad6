import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, UPSTREAM } from '../packages/mcp-proxy/test/support/harness.ts';
import { proxyScenarios } from '../packages/mcp-proxy/test/support/scenarios.ts';

// The MCP SDK's Client → `countersign mcp-proxy` as a process (stdio) → a real MCP server it
// starts as its child (stdio), with a real countersign service deciding.
proxyScenarios('stdio');

const run = promisify(execFile);

describe('countersign mcp-proxy, the command', () => {
  it('answers --help', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'mcp-proxy', '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/countersign mcp-proxy --config FILE/);
    expect(stdout).toMatch(/--upstream URL/);
  });

  it('a bad mapping file stops the proxy at start, naming the line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-mcp-bad-'));
    try {
      const file = path.join(dir, 'mapping.yaml');
      fs.writeFileSync(file, ['version: 1', 'tools:', '  - match: delete_environment', '    action:', '      type: environment.delete', '      resource: args.name +', ''].join('\n'));
      const failed = await run(process.execPath, [CLI, 'mcp-proxy', '--config', file, '--', process.execPath, '--import', 'tsx', UPSTREAM], {
        cwd: ROOT,
        env: { ...process.env, COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_API_KEY: 'cs_test' },
      }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failed?.code).toBe(2);
      expect(failed?.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6:\\d+: tools\\[0\\] \\(delete_environment\\): syntax error`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
