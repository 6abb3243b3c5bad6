import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';

// A real MCP server for the proxy's tests, written the SDK's way: `list_environments` and
// `delete_environment`, one resource and one prompt. It records every tools/call exactly as it
// arrived on the wire (the arguments' JSON text, `_meta`, the release-token header) so tests
// can compare what was forwarded with what was approved.

export interface RecordedCall {
  name: string;
  /** The call's `arguments` as JSON text, serialised from the message as it was received. */
  argumentsJson: string;
  meta: Record<string, unknown> | undefined;
  releaseHeader: string | undefined;
}

export const RELEASE_HEADER = 'countersign-release-token';

export function createEnvironmentsServer(): McpServer {
  const server = new McpServer({ name: 'environments', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'list_environments',
    { description: 'Lists the environments', inputSchema: { region: z.string().optional() } },
    async () => ({ content: [{ type: 'text', text: 'env/prod-eu-1, env/staging-1' }] }),
  );
  server.registerTool(
    'delete_environment',
    {
      description: 'Deletes an environment',
      inputSchema: { name: z.string(), environment: z.string(), reason: z.string().optional(), options: z.record(z.string(), z.unknown()).optional() },
    },
    async ({ name }) => ({ content: [{ type: 'text', text: `deleted ${name}` }] }),
  );
  server.registerTool('rotate_keys', { description: 'Not mapped in the tests' }, async () => ({ content: [{ type: 'text', text: 'rotated' }] }));
  server.registerResource('regions', 'environments://regions', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, text: 'eu-1, us-1' }],
  }));
  server.registerPrompt('cleanup', { description: 'Plan a cleanup', argsSchema: { region: z.string() } }, ({ region }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Plan the cleanup of ${region}` } }],
  }));
  return server;
}

/** Wraps the transport's delivery so each tools/call is recorded before the server sees it. */
export function recordCalls(transport: Transport, record: (call: RecordedCall) => void): void {
  const deliver = transport.onmessage!;
  transport.onmessage = (message, extra) => {
    if ('method' in message && message.method === 'tools/call') {
      const params = message.params as { name: string; arguments?: unknown; _meta?: Record<string, unknown> };
      const header = extra?.requestInfo?.headers?.[RELEASE_HEADER];
      record({
        name: params.name,
        argumentsJson: JSON.stringify(params.arguments ?? {}),
        meta: params._meta,
        releaseHeader: Array.isArray(header) ? header[0] : header,
      });
    }
    deliver(message, extra);
  };
}

/** Streamable HTTP, stateless (a fresh server per request, as in the SDK's stateless example). */
export async function startHttpEnvironments(): Promise<{ url: string; calls: RecordedCall[]; close(): Promise<void> }> {
  const calls: RecordedCall[] = [];
  const httpServer = http.createServer(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const server = createEnvironmentsServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    recordCalls(transport, (call) => calls.push(call));
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    close: async () => {
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Over stdio (run as a process): records to the JSON-lines file given as its argument. */
async function main(): Promise<void> {
  const file = process.argv[2];
  const server = createEnvironmentsServer();
  const transport = new StdioServerTransport();
  await server.connect(transport);
  recordCalls(transport, (call) => {
    if (file) fs.appendFileSync(file, `${JSON.stringify(call)}\n`);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
