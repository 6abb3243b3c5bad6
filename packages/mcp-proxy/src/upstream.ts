import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReleaseHeader } from './release-header.ts';

export type UpstreamTarget =
  /** A server the proxy starts and speaks to over stdio. */
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  /** A server already running, over Streamable HTTP. */
  | { url: string; headers?: Record<string, string> };

export interface Upstream {
  client: Client;
  releaseHeader: ReleaseHeader | undefined;
  close(): Promise<void>;
}

/**
 * Connects to the MCP server being gated. The client declares no capabilities: the upstream can
 * ask it for neither sampling nor elicitation, so nothing reaches the model's side through it.
 */
export async function connectUpstream(target: UpstreamTarget, opts: { releaseHeader?: string; name: string; version: string }): Promise<Upstream> {
  let transport: Transport;
  let releaseHeader: ReleaseHeader | undefined;
  if ('url' in target) {
    releaseHeader = opts.releaseHeader ? new ReleaseHeader(opts.releaseHeader) : undefined;
    transport = new StreamableHTTPClientTransport(new URL(target.url), {
      ...(target.headers ? { requestInit: { headers: target.headers } } : {}),
      ...(releaseHeader ? { fetch: releaseHeader.wrap() } : {}),
    });
  } else {
    // The child gets the SDK's default environment (PATH, HOME, …) plus what is configured:
    // never the proxy's own, which holds its countersign API key.
    transport = new StdioClientTransport({
      command: target.command,
      args: target.args ?? [],
      ...(target.env ? { env: { ...getDefaultEnvironment(), ...target.env } } : {}),
      ...(target.cwd ? { cwd: target.cwd } : {}),
      stderr: 'inherit',
    });
  }
  const client = new Client({ name: opts.name, version: opts.version }, { capabilities: {} });
  await client.connect(transport);
  return { client, releaseHeader, close: () => client.close() };
}
