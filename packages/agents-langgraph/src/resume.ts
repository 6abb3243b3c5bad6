import type { RunnableConfig } from '@langchain/core/runnables';
import { Command } from '@langchain/langgraph';
import type { CountersignClient } from './countersign-sdk.ts';
import type { CountersignInterrupt } from './gated-tool.ts';

/** The slice of a compiled graph this needs (any StateGraph compiled with a checkpointer). */
export interface ResumableGraph<R> {
  getState(config: RunnableConfig): Promise<{ tasks: ReadonlyArray<{ interrupts?: ReadonlyArray<{ id?: string; value?: unknown }> }> }>;
  // `never`: any compiled graph's invoke accepts the Command built here, whatever its node names.
  invoke(input: never, config: RunnableConfig): Promise<R>;
}

/**
 * Waits until countersign decides every call the graph is interrupted on, then resumes it, until
 * it is no longer interrupted by countersign. Works on a fresh process with the same checkpointer
 * and thread: the state says which actions to wait for. Returns the last invoke's result, or
 * undefined when there was nothing to resume.
 */
export async function resumeWhenDecided<R>(graph: ResumableGraph<R>, config: RunnableConfig, countersign: CountersignClient, opts: { signal?: AbortSignal } = {}): Promise<R | undefined> {
  let result: R | undefined;
  for (;;) {
    const state = await graph.getState(config);
    const waiting = state.tasks.flatMap((task) => task.interrupts ?? []).filter((i) => isCountersignInterrupt(i.value));
    if (waiting.length === 0) return result;
    await Promise.all(waiting.map((i) => countersign.waitForDecision((i.value as CountersignInterrupt).countersign.actionId, opts.signal ? { signal: opts.signal } : {})));
    // The value only wakes the tool: it reads the decision from countersign itself.
    const resume = waiting.every((i) => i.id) ? Object.fromEntries(waiting.map((i) => [i.id!, 'decided'])) : 'decided';
    result = await graph.invoke(new Command({ resume }) as never, config);
  }
}

export function isCountersignInterrupt(value: unknown): value is CountersignInterrupt {
  return typeof value === 'object' && value !== null && typeof (value as CountersignInterrupt).countersign?.actionId === 'string';
}
