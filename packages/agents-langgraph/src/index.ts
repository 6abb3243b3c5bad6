// @countersign/agents-langgraph: LangGraph.js tools that run only once countersign approves the call.
export { gatedTool, interruptingTool } from './gated-tool.ts';
export type { GatedToolOptions, CountersignInterrupt } from './gated-tool.ts';
export { resumeWhenDecided, isCountersignInterrupt } from './resume.ts';
export type { ResumableGraph } from './resume.ts';
export type { DescribeCall } from './countersign-sdk.ts';
export { currentRelease } from './countersign-sdk.ts';
