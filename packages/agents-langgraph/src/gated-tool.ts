import { createHash } from 'node:crypto';
import { ToolMessage } from '@langchain/core/messages';
import { tool, type StructuredToolInterface, type ToolRunnableConfig } from '@langchain/core/tools';
import { interopParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';
import { interrupt } from '@langchain/langgraph';
import { ApiError, bindCall, canonicalJson, DecisionError, NetworkError, notApprovedText, TimeoutError, type Action, type AuthorizeOptions, type BoundCall, type CountersignClient, type DescribeCall } from './countersign-sdk.ts';

export interface GatedToolOptions {
  /** Longest to wait for people (ms), for `gatedTool`; then the request is withdrawn and the call not run. */
  timeout?: number;
  onPending?: AuthorizeOptions['onPending'];
}

/** What `interrupt()` carries while a call waits for people: enough for a UI, and for `resumeWhenDecided`. */
export interface CountersignInterrupt {
  countersign: { actionId: string; status: string; tool: string; waitingFor: { role: string; count: number }[]; expiresAt: string | undefined };
}

type AnyTool = StructuredToolInterface;
type Args = Record<string, unknown>;

/**
 * For `ToolNode`: the same tool (name, description, schema), run only once countersign approves
 * this call, with exactly the approved arguments. The node waits for the decision; a refusal is
 * the call's ToolMessage (status "error") with what happened, why and the action id.
 */
export function gatedTool<T extends AnyTool>(countersign: CountersignClient, original: T, intent: DescribeCall<Args>, opts: GatedToolOptions = {}): T {
  return rewrap(original, async (args, config) => {
    const bound = bindCall(intent, args);
    const key = idempotencyKey(config, bound.intentHash);
    try {
      const changed = await schemaChanges(original, bound);
      if (changed) return notRunMessage(changed, original.name, config);
      return await countersign.guard(() => bound.intent, () => invokeOriginal(original, bound.args, config), {
        // Outside a graph task (invoked directly): a fresh key per call, so no earlier approval
        // of the same arguments is found again and replayed.
        ...(key ? { idempotencyKey: key } : {}),
        ...(config.signal ? { signal: config.signal } : {}),
        ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
        ...(opts.onPending ? { onPending: opts.onPending } : {}),
      })();
    } catch (error) {
      return refusalMessage(error, original.name, config);
    }
  });
}

/**
 * The `interrupt()` variant, for graphs with a checkpointer: a call that needs people submits
 * the intent, then interrupts the graph (nothing waits in memory). Resume it with
 * `resumeWhenDecided` (or `Command({ resume })` yourself) — after a restart too: the node
 * re-runs, finds the same action by its Idempotency-Key (graph task + tool call id + intent hash), and reads
 * the decision from countersign. The resume value is never trusted as a decision.
 */
export function interruptingTool<T extends AnyTool>(countersign: CountersignClient, original: T, intent: DescribeCall<Args>): T {
  return rewrap(original, async (args, config) => {
    const bound = bindCall(intent, args);
    const key = idempotencyKey(config, bound.intentHash);
    // The key is how the re-run node finds its action after the interrupt; without a tool call id
    // in a graph task there is none that is this call's alone (a constant would replay one
    // approval for every later call with the same arguments).
    if (!key) return notRunMessage('this call has no tool call id in a graph task, so its approval could not be found again after the interrupt (run the tool from a ToolNode in a graph)', original.name, config);
    try {
      const changed = await schemaChanges(original, bound);
      if (changed) return notRunMessage(changed, original.name, config);
      let action = await countersign.submit(bound.intent, { idempotencyKey: key });
      while (action.status === 'pending') {
        interrupt(interruptValue(action, original.name));
        action = await countersign.get(action.id);
      }
      // Final now: runs under the approval (currentRelease() inside), or throws the decision.
      return await countersign.guard(() => bound.intent, () => invokeOriginal(original, bound.args, config), { idempotencyKey: key })();
    } catch (error) {
      return refusalMessage(error, original.name, config);
    }
  });
}

function rewrap<T extends AnyTool>(original: T, func: (args: Args, config: ToolRunnableConfig) => Promise<unknown>): T {
  return tool(func as never, {
    name: original.name,
    description: original.description,
    schema: original.schema as never,
  }) as unknown as T;
}

async function invokeOriginal(original: AnyTool, args: Args, config: ToolRunnableConfig): Promise<unknown> {
  // Without the tool call, so the original returns its content and the wrapper makes the message.
  const { toolCall: _toolCall, ...rest } = config;
  return original.invoke(args as never, rest);
}

/**
 * This tool call's key, or undefined when it has none of its own. Tool call ids come from the
 * model provider and some reuse them (call_0 in every conversation), so the id alone would find
 * an earlier approval of the same arguments and run again under it. The graph's task
 * (`checkpoint_ns`, with the thread) is this node run's own, and the same when it re-runs after
 * an interrupt or a restart from the checkpoint: it scopes the id.
 */
function idempotencyKey(config: ToolRunnableConfig, intentHash: string): string | undefined {
  const callId = config.toolCall?.id;
  const task = config.configurable?.checkpoint_ns;
  if (!callId || typeof task !== 'string' || task === '') return undefined;
  const scope = createHash('sha256').update(JSON.stringify([String(config.configurable?.thread_id ?? ''), task, callId])).digest('hex').slice(0, 32);
  return `langgraph:${scope}:${intentHash}`;
}

/**
 * The original tool parses its input again when invoked: a schema whose transform is not
 * idempotent (dollars → cents) would run it with other values than the approved ones. Returns
 * why the call cannot run when parsing the approved arguments does not give them back.
 */
async function schemaChanges(original: AnyTool, bound: BoundCall<Args>): Promise<string | undefined> {
  if (!isInteropZodSchema(original.schema)) return undefined;
  let reparsed: unknown;
  try {
    reparsed = await interopParseAsync(original.schema, bound.args);
  } catch {
    return "the tool's schema refuses the approved arguments when it parses them again";
  }
  let same: boolean;
  try {
    same = canonicalJson(reparsed) === canonicalJson(bound.args);
  } catch {
    same = false;
  }
  return same ? undefined : "the tool's schema changes the approved arguments when it parses them again (a transform that is not idempotent), so what would run is not what was approved";
}

function notRunMessage(why: string, toolName: string, config: ToolRunnableConfig): ToolMessage | string {
  const text = `countersign did not ask for this call: ${why}. It was not run.`;
  const id = config.toolCall?.id;
  return id ? new ToolMessage({ content: text, tool_call_id: id, name: toolName, status: 'error' }) : text;
}

function interruptValue(action: Action, toolName: string): CountersignInterrupt {
  return {
    countersign: { actionId: action.id, status: action.status, tool: toolName, waitingFor: action.progress?.open ?? [], expiresAt: action.expiresAt },
  };
}

function refusalMessage(error: unknown, toolName: string, config: ToolRunnableConfig): ToolMessage | string {
  // Anything else (a GraphInterrupt above all) is not ours to turn into a message.
  if (!(error instanceof DecisionError || error instanceof TimeoutError || error instanceof ApiError || error instanceof NetworkError)) throw error;
  const text = notApprovedText(error);
  const id = config.toolCall?.id;
  return id ? new ToolMessage({ content: text, tool_call_id: id, name: toolName, status: 'error' }) : text;
}
