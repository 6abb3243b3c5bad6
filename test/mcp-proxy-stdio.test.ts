import { execFile, execFileSync, spawn } from 'node:child_process';
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

/** The proxy as a process, spoken to in raw lines; no countersign behind it. */
function rawProxy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-mcp-raw-'));
  const mappingFile = path.join(dir, 'mapping.yaml');
  const recordFile = path.join(dir, 'calls.jsonl');
  fs.writeFileSync(mappingFile, mappingYaml());
  fs.writeFileSync(recordFile, '');
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
  const exited = new Promise<number | string>((resolve) => proxy.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const until = async (what: string, done: () => boolean, ms = 30_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    proxy,
    answers,
    stderr: () => stderr,
    calls: () => fs.readFileSync(recordFile, 'utf8'),
    exited,
    send: (line: string) => proxy.stdin.write(`${line}\n`),
    answered: async (n: number) => {
      await until(`${n} answers`, () => answers.length >= n);
      return answers.slice(0, n);
    },
    /** Ends within `ms` on its own, or is killed and this rejects. */
    endsWithin: async (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first === 'late') throw new Error(`the proxy was still running ${ms} ms later; stderr: ${stderr}`);
      return first;
    },
    async initialize() {
      this.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
      expect((await this.answered(1))[0]).toMatchObject({ id: 1, result: { serverInfo: expect.any(Object) } });
      this.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    },
    async close() {
      proxy.stdin.end();
      if (proxy.exitCode === null && proxy.signalCode === null) {
        const timer = setTimeout(() => proxy.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('countersign mcp-proxy over stdio, lines the MCP SDK cannot read', () => {
  // The SDK drops such a line unanswered: the agent would wait out its own timeout. Raw lines
  // here, as a hand-written or buggy client sends them, to the proxy as a process.
  it('a request is answered at once naming what is wrong; a line that is not JSON is a parse error; the session goes on', async () => {
    const p = rawProxy();
    try {
      await p.initialize();
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: null }));
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 'three', method: 'tools/list', extra: true }));
      p.send('{"jsonrpc":"2.0","id":4,"method":"tools/call"');
      p.send(JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'tools/list' }]));
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'delete_environment', arguments: { environment: 'prod' }, _meta: { progressToken: { x: 1 } } } }));
      // A notification cannot be answered; it must not stop what follows either.
      p.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: null }));
      p.send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }));

      const [, bad2, bad3, notJson, batch, bad6, list] = await p.answered(7);
      expect(bad2).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: params: .*object/) } });
      expect(bad3).toEqual({ jsonrpc: '2.0', id: 'three', error: { code: -32600, message: expect.stringMatching(/^Invalid Request: request: .*extra/) } });
      expect(notJson).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: expect.stringMatching(/^Parse error/) } });
      expect(batch).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: expect.stringMatching(/not a batch/) } });
      expect(bad6).toEqual({ jsonrpc: '2.0', id: 6, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: params\._meta\.progressToken: /) } });
      for (const a of [bad2, bad3, notJson, batch, bad6]) expect(a!.error.message).not.toMatch(/\n/);
      expect(list).toMatchObject({ id: 7, result: { tools: expect.any(Array) } });
      expect(list!.result.tools).toHaveLength(3);
      expect(p.stderr()).toMatch(/dropped messages from the client/);
      expect(p.calls()).toBe('');
    } finally {
      await p.close();
    }
  }, 60_000);

  // The filter reads stdin on the SDK's behalf: when the proxy stops, it must let go of stdin, or
  // the process outlives its upstream and its signal, answering nothing.
  it('stops on SIGTERM while its client keeps stdin open', async () => {
    const p = rawProxy();
    try {
      await p.initialize();
      p.proxy.kill('SIGTERM');
      expect(await p.endsWithin(15_000)).toBe(0);
    } finally {
      await p.close();
    }
  }, 60_000);

  it('stops when its upstream server goes away, while its client keeps stdin open', async () => {
    const p = rawProxy();
    try {
      await p.initialize();
      // The upstream is the proxy's own child (node … environments-server.ts).
      const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(p.proxy.pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((pid) => pid > 0);
      expect(children).toHaveLength(1);
      process.kill(children[0]!, 'SIGKILL');
      expect(await p.endsWithin(15_000)).toBe(0);
      expect(p.stderr()).toMatch(/the upstream server went away/);
    } finally {
      await p.close();
    }
  }, 60_000);
});
