import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';

// A stdio MCP server with resource subscriptions, for the proxy's session-isolation test: it
// keeps the subscribed URIs and, when `touch` is called, sends resources/updated for a URI if
// (and only while) it is subscribed.

const server = new McpServer({ name: 'documents', version: '1.0.0' }, { capabilities: { resources: { subscribe: true } } });
const subscribed = new Set<string>();
server.registerResource('report', 'docs://report', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: 'q3' }] }));
server.server.setRequestHandler(SubscribeRequestSchema, async (request) => (subscribed.add(request.params.uri), {}));
server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => (subscribed.delete(request.params.uri), {}));
server.registerTool('touch', { description: 'Changes the report' }, async () => {
  if (subscribed.has('docs://report')) await server.server.sendResourceUpdated({ uri: 'docs://report' });
  return { content: [{ type: 'text', text: subscribed.has('docs://report') ? 'touched, notified' : 'touched' }] };
});
await server.connect(new StdioServerTransport());
