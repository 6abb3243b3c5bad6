import {
  run,
  RunState,
  tool,
  type Agent,
  type FunctionTool,
  type NonStreamRunOptions,
  type RunResult,
  type RunToolApprovalItem,
  type ToolExecuteArgument,
  type ToolInputParameters,
  type ToolOptions,
  type UnknownContext,
} from '@openai/agents';
import { createHash } from 'node:crypto';
import { runIdOf, turnOf } from './run-scope.ts';
import { bindCall, notApprovedText, type Action, type CountersignClient, type DescribeCall } from './countersign-sdk.ts';

/** `tool()`'s options plus how a call becomes an intent (from the same parsed arguments `execute` gets). */
export type GatedToolOptions<TParameters extends ToolInputParameters, Context = UnknownContext> = ToolOptions<TParameters, Context> & {
  intent: DescribeCall<ToolExecuteArgument<TParameters>>;
};

export interface CountersignApprovalsOptions {
  /** Longest to wait for one decision (ms); then the request is withdrawn and the call rejected. Default: the action's own expiry. */
  timeout?: number;
  /** Called when people must decide (the action is pending). */
  onPending?: (action: Action, toolName: string) => void;
}

interface Approved {
  actionId: string;
  intentHash: string;
  releaseToken: string;
}

/** How many executed actions are remembered to refuse running them twice (oldest forgotten first). */
const MAX_REMEMBERED_EXECUTIONS = 10_000;

/**
 * countersign decides the approvals of an OpenAI Agents SDK run, in the SDK's own idiom: gated
 * tools declare `needsApproval`, the run stops with interruptions, each is submitted to countersign
 * and approved or rejected on the RunState by its decision, and the run resumes.
 *
 * ```ts
 * const approvals = new CountersignApprovals(countersign);
 * const deleteEnvironment = approvals.tool({ name: 'delete_environment', parameters, execute, intent: (a) => ({ action: { type: 'environment.delete', resource: a.name } }) });
 * const result = await approvals.run(agent, 'Delete env/prod-eu-1');
 * ```
 */
export class CountersignApprovals {
  private readonly describers = new Map<string, DescribeCall<unknown>>();
  /** Approved tool calls by call id: execution checks the arguments still hash to what was approved. */
  private readonly approved = new Map<string, Approved>();
  /**
   * Actions whose approval already ran a call. A saved RunState resumed twice finds the same
   * action again by its Idempotency-Key: one approval releases one execution.
   */
  private readonly executed = new Set<string>();

  constructor(
    private readonly countersign: CountersignClient,
    private readonly opts: CountersignApprovalsOptions = {},
  ) {}

  /** A function tool that runs only when countersign approved this very call. */
  tool<TParameters extends ToolInputParameters = undefined, Context = UnknownContext, Result = string>(
    options: GatedToolOptions<TParameters, Context>,
  ): FunctionTool<Context, TParameters, Result> {
    const { intent, execute, ...rest } = options as GatedToolOptions<TParameters, Context> & { execute: (input: unknown, ...more: unknown[]) => unknown };
    this.describers.set(rest.name as string, intent as DescribeCall<unknown>);
    return tool<TParameters, Context, Result>({
      ...(rest as ToolOptions<TParameters, Context>),
      needsApproval: true,
      execute: async (input: unknown, context: unknown, details?: { toolCall?: { callId?: string } }) => {
        const bound = bindCall(intent as DescribeCall<unknown>, input);
        const callId = details?.toolCall?.callId;
        const approval = callId ? this.approved.get(callId) : undefined;
        // Approved in this process for exactly these arguments, or not run at all.
        if (!approval || approval.intentHash !== bound.intentHash) {
          return `countersign has not approved this call with these arguments. It was not run.`;
        }
        if (this.executed.has(approval.actionId)) return alreadyRan(approval.actionId);
        this.executed.add(approval.actionId);
        if (this.executed.size > MAX_REMEMBERED_EXECUTIONS) this.executed.delete(this.executed.values().next().value!);
        return execute(bound.args, context, details);
      },
    } as ToolOptions<TParameters, Context>);
  }

  /**
   * Runs the agent; countersign decides every gated interruption, until the run ends or stops on
   * others. `scope.runId`: see decide().
   */
  async run<TAgent extends Agent<any, any>>(
    agent: TAgent,
    input: string | RunState<any, TAgent> | Parameters<typeof run>[1],
    options?: NonStreamRunOptions<any, TAgent>,
    scope: { runId?: string } = {},
  ): Promise<RunResult<any, TAgent>> {
    let result = (await run(agent, input as never, options as never)) as RunResult<any, TAgent>;
    const signal = (options as { signal?: AbortSignal } | undefined)?.signal;
    while (result.interruptions.some((item) => this.gates(item))) {
      const state = await this.decide(result.state, result.interruptions, { ...(signal ? { signal } : {}), ...scope });
      result = (await run(agent, state as never, options as never)) as RunResult<any, TAgent>;
    }
    return result;
  }

  /**
   * Submits each gated interruption and approves or rejects it on `state` by countersign's
   * decision. `runId`: the caller's own id for this run (a conversation or thread id, unique per
   * conversation, kept with the saved state): deciding the same state again, after a restart
   * too, finds the same action. Without it the run is this RunState's own, in this process: a
   * state restored elsewhere asks people again (see run-scope.ts).
   */
  async decide<S extends RunState<any, any>>(
    state: S,
    interruptions: RunToolApprovalItem[] = state.getInterruptions(),
    opts: { signal?: AbortSignal; runId?: string } = {},
  ): Promise<S> {
    await Promise.all(
      interruptions.filter((item) => this.gates(item)).map(async (item) => {
        const name = item.name!;
        const callId = (item.rawItem as { callId?: string }).callId ?? '';
        let bound;
        try {
          bound = bindCall(this.describers.get(name)!, JSON.parse(item.arguments ?? '{}'));
        } catch (err) {
          state.reject(item, { message: `countersign refused the call: its arguments could not be described (${(err as Error).message}). It was not run.` });
          return;
        }
        try {
          const { action, releaseToken } = await this.countersign.authorize(bound.intent, {
            idempotencyKey: keyOf(state, item, callId, bound.intentHash, opts.runId),
            ...(this.opts.timeout !== undefined ? { timeout: this.opts.timeout } : {}),
            // The run's own signal: an aborted run stops waiting, and the SDK withdraws the action.
            ...(opts.signal ? { signal: opts.signal } : {}),
            onPending: (pending) => this.opts.onPending?.(pending, name),
          });
          if (this.executed.has(action.id)) {
            state.reject(item, { message: alreadyRan(action.id) });
            return;
          }
          this.approved.set(callId, { actionId: action.id, intentHash: bound.intentHash, releaseToken });
          state.approve(item);
        } catch (err) {
          if (opts.signal?.aborted) throw opts.signal.reason;
          state.reject(item, { message: notApprovedText(err) });
        }
      }),
    );
    return state;
  }

  /** The release token of an approved call (to hand to the system that acts), by call id. */
  releaseToken(callId: string): string | undefined {
    return this.approved.get(callId)?.releaseToken;
  }

  private gates(item: RunToolApprovalItem): boolean {
    return item.name !== undefined && this.describers.has(item.name);
  }
}

function alreadyRan(actionId: string): string {
  return `countersign's approval (action ${actionId}) already ran this call once; an approval releases one execution, so it was not run again.`;
}

/**
 * The submission's Idempotency-Key: the same call of the same run finds the same action, and
 * nothing else does: the run (run-scope.ts), the turn that made the call, its id and its intent.
 */
function keyOf(state: RunState<any, any>, item: RunToolApprovalItem, callId: string, intentHash: string, runId: string | undefined): string {
  const scoped = createHash('sha256').update(JSON.stringify([runIdOf(state, runId), turnOf(state, item, callId), callId, intentHash])).digest('base64url');
  return `openai-agents:${scoped}`;
}
