import { proxyScenarios } from '../packages/mcp-proxy/test/support/scenarios.ts';

// The MCP SDK's Client → countersign mcp-proxy (listening on Streamable HTTP) → a real MCP
// server over Streamable HTTP, with a real countersign service deciding.
proxyScenarios('http');
