// @countersign/agents-openai: countersign decides the approvals of OpenAI Agents SDK runs.
export { CountersignApprovals } from './approvals.ts';
export type { CountersignApprovalsOptions, GatedToolOptions } from './approvals.ts';
export type { DescribeCall } from './countersign-sdk.ts';
