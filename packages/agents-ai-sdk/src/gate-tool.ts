import type { Tool, ToolExecutionOptions } from 'ai';
import { ApiError, bindCall, DecisionError, NetworkError, notApprovedText, TimeoutError, type AuthorizeOptions, type CountersignClient, type DescribeCall } from './countersign-sdk.ts';

/** What a gated tool returns when countersign did not approve the call (its `execute` never ran). */
export interface CountersignRefusal {
  countersign: 'not-approved';
  status: 'refused' | 'expired' | 'cancelled' | 'timeout' | 'unavailable';
  actionId: string | undefined;
  reasons: string[];
  /** For the model: what happened, why and the action id. */
  message: string;
}

export interface GateToolOptions {
  /** Longest to wait for people (ms); then the request is withdrawn and the call not run. */
  timeout?: number;
  onPending?: AuthorizeOptions['onPending'];
}

/**
 * Wraps a Vercel AI SDK tool so its `execute` runs only once countersign approves this call,
 * with exactly the approved arguments (a frozen canonical copy; `currentRelease()` from
 * @countersign/sdk gives the release token inside `execute`). Otherwise the tool's result is a
 * CountersignRefusal, which the model receives as an `execution-denied` output with the reason.
 *
 * ```ts
 * const deleteEnvironment = gateTool(countersign, tool({ inputSchema, execute }), ({ name }) => ({ action: { type: 'environment.delete', resource: name } }));
 * ```
 */
export function gateTool<INPUT, OUTPUT>(
  countersign: CountersignClient,
  original: Tool<INPUT, OUTPUT>,
  intent: DescribeCall<INPUT>,
  opts: GateToolOptions = {},
): Tool<INPUT, OUTPUT | CountersignRefusal> {
  const execute = original.execute;
  if (!execute) throw new TypeError('gateTool: the tool has no execute function to gate');
  return {
    ...original,
    execute: async (input: INPUT, options: ToolExecutionOptions) => {
      const bound = bindCall(intent, input);
      const run = countersign.guard(
        () => bound.intent,
        async () => (await execute(bound.args, options)) as OUTPUT,
        {
          // No Idempotency-Key of ours: the SDK makes a fresh one per call (its own retries reuse
          // it). One built from the tool call id would find an earlier approval of the same
          // arguments whenever a provider reuses ids (call_0, …) and run again under it.
          ...(options.abortSignal ? { signal: options.abortSignal } : {}),
          ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
          ...(opts.onPending ? { onPending: opts.onPending } : {}),
        },
      );
      try {
        return await run();
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        return refusal;
      }
    },
    toModelOutput: async (call: { toolCallId: string; input: unknown; output: unknown }) => {
      if (isRefusal(call.output)) return { type: 'execution-denied', reason: call.output.message };
      if (original.toModelOutput) return original.toModelOutput(call as never);
      return typeof call.output === 'string' ? { type: 'text', value: call.output } : { type: 'json', value: (call.output ?? null) as never };
    },
  } as Tool<INPUT, OUTPUT | CountersignRefusal>;
}

export function isRefusal(value: unknown): value is CountersignRefusal {
  return typeof value === 'object' && value !== null && (value as CountersignRefusal).countersign === 'not-approved';
}

function refusalOf(error: unknown): CountersignRefusal | undefined {
  if (error instanceof DecisionError) {
    return { countersign: 'not-approved', status: error.status as CountersignRefusal['status'], actionId: error.actionId, reasons: error.reasons, message: notApprovedText(error) };
  }
  if (error instanceof TimeoutError) {
    return { countersign: 'not-approved', status: 'timeout', actionId: error.actionId, reasons: [], message: notApprovedText(error) };
  }
  // Unreachable, 5xx after retries, or the request itself refused (4xx): not run, and the model is told so.
  if (error instanceof NetworkError || error instanceof ApiError) {
    return { countersign: 'not-approved', status: 'unavailable', actionId: undefined, reasons: [error.message], message: notApprovedText(error) };
  }
  return undefined;
}
