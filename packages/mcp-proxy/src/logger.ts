/** The slice of pino the proxy uses. Fields never include arguments: intents carry privileged detail. */
export interface ProxyLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: ProxyLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * One JSON line per event on a stream that is not the MCP channel (stderr: over stdio, stdout
 * carries the protocol and nothing else).
 */
export function streamLogger(stream: NodeJS.WritableStream, level: 'info' | 'warn' | 'error' = 'info'): ProxyLogger {
  const order = { info: 0, warn: 1, error: 2 } as const;
  const write = (at: keyof typeof order) => (fields: Record<string, unknown>, message: string) => {
    if (order[at] < order[level]) return;
    stream.write(`${JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...fields })}\n`);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
