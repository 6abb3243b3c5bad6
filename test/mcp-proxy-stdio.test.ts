import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, mappingYaml, ROOT, UPSTREAM } from '../packages/mcp-proxy/test/support/harness.ts';
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

describe('countersign mcp-proxy over stdio, lines the MCP SDK cannot read', () => {
  // The SDK drops such a line unanswered: the agent would wait out its own timeout. Raw lines
  // here, as a hand-written or buggy client sends them, to the proxy as a process.
  it('a request is answered at once naming what is wrong; a line that is not JSON is a parse error; the session goes on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-mcp-raw-'));
    const mappingFile = path.join(dir, 'mapping.yaml');
    const recordFile = path.join(dir, 'calls.jsonl');
    fs.writeFileSync(mappingFile, mappingYaml());
    fs.writeFileSync(recordFile, '');
    // No countersign behind it: nothing here may get as far as asking.
    const proxy = spawn(process.execPath, [CLI, 'mcp-proxy', '--config', mappingFile, '--', process.execPath, '--import', 'tsx', UPSTREAM, recordFile], {
      cwd: ROOT,
      env: { ...process.env, COUNTERSIGN_URL: 'http://127.0.0.1:9', COUNTERSIGN_API_KEY: 'cs_test', COUNTERSIGN_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers: Array<Record<string, any>> = [];
    let buffered = '';
    proxy.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        answers.push(JSON.parse(buffered.slice(0, nl)));
        buffered = buffered.slice(nl + 1);
      }
    });
    let stderr = '';
    proxy.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const send = (line: string) => proxy.stdin.write(`${line}\n`);
    const answered = async (n: number) => {
      const until = Date.now() + 30_000;
      while (answers.length < n) {
        if (Date.now() > until) throw new Error(`${answers.length} answers of ${n}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return answers.slice(0, n);
    };
    try {
      send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
      expect((await answered(1))[0]).toMatchObject({ id: 1, result: { serverInfo: expect.any(Object) } });
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

      send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: null }));
      send(JSON.stringify({ jsonrpc: '2.0', id: 'three', method: 'tools/list', extra: true }));
      send('{"jsonrpc":"2.0","id":4,"method":"tools/call"');
      send(JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'tools/list' }]));
      send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'delete_environment', arguments: { environment: 'prod' }, _meta: { progressToken: { x: 1 } } } }));
      // A notification cannot be answered; it must not stop what follows either.
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: null }));
      send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));

      const [, bad2, bad3, notJson, batch, bad6, list] = await answered(7);
      expect(bad2).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: params: .*object/) } });
      expect(bad3).toEqual({ jsonrpc: '2.0', id: 'three', error: { code: -32600, message: expect.stringMatching(/^Invalid Request: request: .*extra/) } });
      expect(notJson).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
      expect(batch).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: expect.stringMatching(/not a batch/) } });
      expect(bad6).toEqual({ jsonrpc: '2.0', id: 6, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: params\._meta\.progressToken: /) } });
      for (const a of [bad2, bad3, notJson, batch, bad6]) expect(a!.error.message).not.toMatch(/\n/);
      expect(list).toMatchObject({ id: 7, result: { tools: expect.any(Array) } });
      expect(list!.result.tools).toHaveLength(3);
      expect(stderr).toMatch(/dropped a message from the client/);
      expect(fs.readFileSync(recordFile, 'utf8')).toBe('');
    } finally {
      proxy.stdin.end();
      await new Promise<void>((resolve) => {
        if (proxy.exitCode !== null || proxy.signalCode !== null) return resolve();
        const timer = setTimeout(() => proxy.kill('SIGKILL'), 10_000);
        proxy.once('exit', () => (clearTimeout(timer), resolve()));
      });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
