import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError } from '@countersign/policy';
import { loadMappingFile, startMcpProxy, streamLogger, type ListenOptions, type UpstreamTarget } from '@countersign/mcp-proxy';
import { parseCli } from '../args.ts';
import type { CliContext } from '../registry.ts';
import { escapeHiddenInJson, shownError, shownLine } from '../terminal.ts';

const USAGE = `usage:
  countersign mcp-proxy --config FILE [--listen HOST:PORT] -- COMMAND [ARGS…]
  countersign mcp-proxy --config FILE [--listen HOST:PORT] --upstream URL

Stands between an MCP client and an MCP server, neither changed. Every tools/call is mapped
to an intent by the YAML mapping (CEL over \`args\`) and submitted to countersign with the
proxy's own API key; the call is forwarded only when approved, with exactly the approved
arguments. Unmapped tools are refused unless mapped \`passthrough: true\`.

upstream (the server being gated):
  -- COMMAND [ARGS…]       start it and speak stdio to it
  --upstream URL           an MCP server over Streamable HTTP

downstream (the client):
  (default)                this process's stdin/stdout
  --listen HOST:PORT       Streamable HTTP at http://HOST:PORT/mcp
                           (COUNTERSIGN_MCP_PROXY_TOKEN, if set, is required as a Bearer token)

options:
  --config FILE            the mapping file (checked at start; errors name the line)
  --countersign-url URL    default $COUNTERSIGN_URL
  --check                  only check the mapping file, then exit
  --help

environment:
  COUNTERSIGN_URL          where countersign is
  COUNTERSIGN_API_KEY      the proxy's own API key (an agent's): required
`;

/** The options, also read by dispatch.ts to tell a --help flag from an option's value. */
export const options = {
  config: { type: 'string' },
  upstream: { type: 'string' },
  listen: { type: 'string' },
  'countersign-url': { type: 'string' },
  check: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `countersign mcp-proxy`: runs the MCP gateway until its client or upstream goes away. */
export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  let parsed;
  try {
    parsed = parseCli(own, options);
  } catch (err) {
    ctx.stderr.write(`${shownError(err)}\n${USAGE}`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  if (!o.config || parsed.positionals.length > 0) return usage(ctx, o.config ? `unexpected argument "${shownLine(parsed.positionals[0])}" (put the upstream command after --)` : '--config is required');

  let mapping;
  try {
    mapping = loadMappingFile(path.resolve(ctx.cwd, o.config));
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr.write(`countersign mcp-proxy: ${shownError(err)}\n`);
      return 2;
    }
    throw err;
  }
  if (o.check) {
    ctx.stderr.write(`${shownLine(o.config)}: ${mapping.tools.length} tool mapping(s), OK\n`);
    return 0;
  }

  if (o.upstream && command.length > 0) return usage(ctx, 'give either --upstream URL or -- COMMAND, not both');
  const [cmd, ...cmdArgs] = command;
  let upstream: UpstreamTarget;
  if (o.upstream) upstream = { url: o.upstream };
  else if (cmd) upstream = { command: cmd, args: cmdArgs, cwd: ctx.cwd };
  else return usage(ctx, 'which server? give --upstream URL or -- COMMAND [ARGS…]');

  let listen: ListenOptions | undefined;
  if (o.listen) {
    const m = /^(.+):(\d{1,5})$/.exec(o.listen);
    if (!m) return usage(ctx, `--listen must be HOST:PORT, not "${shownLine(o.listen)}"`);
    const token = ctx.env.COUNTERSIGN_MCP_PROXY_TOKEN;
    listen = { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]), ...(token ? { token } : {}) };
  }

  const url = o['countersign-url'] ?? ctx.env.COUNTERSIGN_URL;
  const apiKey = ctx.env.COUNTERSIGN_API_KEY;
  if (!url) return usage(ctx, 'where is countersign? set COUNTERSIGN_URL or --countersign-url');
  if (!apiKey) return usage(ctx, 'COUNTERSIGN_API_KEY is required: the proxy acts with its own API key');

  // The log is JSON lines that quote tool names, arguments and upstream errors: the same JSON
  // with hidden characters as \uXXXX escapes, for the terminal it is usually read in.
  const logStream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      ctx.stderr.write(escapeHiddenInJson(chunk.toString()));
      done();
    },
  });
  const logger = streamLogger(logStream, ctx.env.COUNTERSIGN_LOG_LEVEL === 'warn' ? 'warn' : 'info');
  const proxy = await startMcpProxy({ mapping, countersign: { url, apiKey }, upstream, ...(listen ? { listen } : {}), logger });
  if (proxy.url) ctx.stderr.write(`countersign mcp-proxy: listening on ${proxy.url}\n`);
  const stop = () => void proxy.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await proxy.closed;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}

function usage(ctx: CliContext, message: string): number {
  ctx.stderr.write(`countersign mcp-proxy: ${message}\n\n${USAGE}`);
  return 2;
}

/** Shown by `countersign mcp-proxy --help`. */
export { USAGE as usage };
