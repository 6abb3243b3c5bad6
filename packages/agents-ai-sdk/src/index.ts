// @countersign/agents-ai-sdk: Vercel AI SDK tools that run only once countersign approves the call.
export { gateTool, isRefusal } from './gate-tool.ts';
export type { CountersignRefusal, GateToolOptions } from './gate-tool.ts';
export type { DescribeCall } from './countersign-sdk.ts';
export { currentRelease } from './countersign-sdk.ts';
