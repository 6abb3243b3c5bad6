import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { wellFormedMessages } from '../src/stdio-messages.ts';

// The filter in front of the SDK's stdio transport: only lines the SDK can read pass, whatever
// way stdin happens to cut them into chunks; the rest are answered (requests) or dropped.

async function through(chunks: Array<string | Buffer>): Promise<{ passed: string; answers: JSONRPCMessage[] }> {
  const input = new PassThrough();
  const answers: JSONRPCMessage[] = [];
  const out = wellFormedMessages(input, (m) => void answers.push(m), silentLogger).messages;
  const passed: Buffer[] = [];
  out.on('data', (b: Buffer) => passed.push(b));
  const ended = new Promise((resolve) => out.on('end', resolve));
  for (const c of chunks) input.write(c);
  input.end();
  await ended;
  return { passed: Buffer.concat(passed).toString('utf8'), answers };
}

const list = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });

describe('wellFormedMessages', () => {
  it('passes readable lines as they are, split across chunks or several to a chunk, UTF-8 cut mid-character', async () => {
    const call = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'x', arguments: { note: 'café ✓' } } });
    const bytes = Buffer.from(`${list(1)}\n${list(2)}\r\n${call}\n`);
    const cut = bytes.indexOf(Buffer.from('✓')) + 1;
    const { passed, answers } = await through([bytes.subarray(0, 10), bytes.subarray(10, cut), bytes.subarray(cut)]);
    expect(passed).toBe(`${list(1)}\n${list(2)}\r\n${call}\n`);
    expect(answers).toEqual([]);
  });

  it('answers a bad request in its place, between good ones; blank lines and a bad notification are dropped unanswered', async () => {
    const bad = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: null });
    const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: 'x' });
    const { passed, answers } = await through([`${list(1)}\n\n${bad}\n${note}\n  \n${list(3)}\n`]);
    expect(passed).toBe(`${list(1)}\n${list(3)}\n`);
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 2, error: { code: -32600, message: expect.stringMatching(/^Invalid Request: params: /) } }]);
  });

  it('a response with a bad shape is not answered (JSON-RPC answers requests only)', async () => {
    const { passed, answers } = await through([`${JSON.stringify({ jsonrpc: '2.0', id: 9, result: 'not an object' })}\n`]);
    expect(passed).toBe('');
    expect(answers).toEqual([]);
  });

  it('a line longer than the SDK takes is handed on as it is, for the SDK to refuse (and close)', async () => {
    const huge = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"${'a'.repeat(10 * 1024 * 1024)}"}}`;
    const { passed, answers } = await through([huge.slice(0, 5_000_000), huge.slice(5_000_000), '\n']);
    expect(passed).toBe(`${huge}\n`);
    expect(answers).toEqual([]);
  });

  it('a last line without its newline is not passed (the SDK would not read it either)', async () => {
    const { passed } = await through([`${list(1)}\n${list(2)}`]);
    expect(passed).toBe(`${list(1)}\n`);
  });

  it('a line arriving a byte at a time is one line', async () => {
    const bytes = Buffer.from(`${list(1)}\n`);
    const { passed } = await through([...bytes].map((b) => Buffer.from([b])));
    expect(passed).toBe(`${list(1)}\n`);
  });

  it('reads no more of its input while an answer waits to be written (a client that never reads its output holds up its own input)', async () => {
    const input = new PassThrough();
    let release!: () => void;
    const writing = new Promise<void>((resolve) => (release = resolve));
    const answers: JSONRPCMessage[] = [];
    const { messages } = wellFormedMessages(input, (m) => (answers.push(m), writing), silentLogger);
    const passed: string[] = [];
    messages.on('data', (b: Buffer) => passed.push(b.toString('utf8')));
    input.write('not json\n');
    input.write(`${list(2)}\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(answers).toHaveLength(1);
    expect(passed).toEqual([]);
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(passed.join('')).toBe(`${list(2)}\n`);
  });

  it('stop() lets go of the input: unpiped and paused', async () => {
    const input = new PassThrough();
    const stdin = wellFormedMessages(input, () => undefined, silentLogger);
    expect(input.listenerCount('data')).toBeGreaterThan(0);
    stdin.stop();
    expect(input.listenerCount('data')).toBe(0);
    expect(input.isPaused()).toBe(true);
  });
});
