// @countersign/mcp-proxy: an MCP gateway that asks countersign before any mapped tool call.
export { startMcpProxy } from './start.ts';
export type { McpProxyOptions, RunningProxy } from './start.ts';
export { loadMapping, loadMappingFile, globMatcher } from './load-mapping.ts';
export type { Mapping, ToolMapping } from './load-mapping.ts';
export { describeCall } from './intent.ts';
export type { DescribedCall } from './intent.ts';
export { createProxyServer } from './proxy-server.ts';
export { META_KEY } from './results.ts';
export type { UpstreamTarget } from './upstream.ts';
export type { ListenOptions } from './downstream-http.ts';
export { streamLogger } from './logger.ts';
export type { ProxyLogger } from './logger.ts';
