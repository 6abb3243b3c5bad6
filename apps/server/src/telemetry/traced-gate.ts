import { context, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { DomainError } from '@countersign/contracts';
import { Gate, type Caller, type GateDeps } from '@countersign/core';
import { linkTo, tracer } from '@countersign/queue';
import { parseActionTrace, withActionTrace } from './action-trace.ts';

// The engine's front door with a span around each change a person or agent asks for. Subclassed
// here, not in core: the engine stays free of tracing (and of OpenTelemetry's global provider);
// whoever calls the gate (routes, Slack, Teams, the console) is traced the same way.

type SubmitRequest = Parameters<Gate['submit']>[0];
type VoteRequest = Parameters<Gate['vote']>[0];
type OverrideRequest = Parameters<Gate['override']>[0];

/** Reads the trace context stored with an action (the outbox's first traced event), if any. */
export type ActionTraceLookup = (actionId: string) => Promise<unknown>;

export class TracedGate extends Gate {
  constructor(
    deps: GateDeps,
    private readonly actionTrace: ActionTraceLookup,
  ) {
    super(deps);
  }

  override submit(req: SubmitRequest) {
    return inSpan('countersign.submit', {}, async (span) => {
      const result = await super.submit(req);
      span.setAttributes({ 'countersign.action_id': result.view.id, 'countersign.status': result.view.status, 'countersign.replayed': result.replayed });
      return result;
    });
  }

  override vote(req: VoteRequest) {
    const attributes = { 'countersign.action_id': req.actionId, 'countersign.vote.channel': req.channel, 'countersign.vote.decision': req.decision };
    return this.inActionTrace('countersign.vote', req.actionId, attributes, () => super.vote(req));
  }

  override cancel(id: string, caller: Caller, reason: string | null) {
    return this.inActionTrace('countersign.cancel', id, { 'countersign.action_id': id }, () => super.cancel(id, caller, reason));
  }

  override override(req: OverrideRequest) {
    return this.inActionTrace('countersign.override', req.actionId, { 'countersign.action_id': req.actionId }, () => super.override(req));
  }

  /**
   * A change to an existing action, in the caller's trace, linked to the action's: the span links
   * to the submission, and the events the change writes continue the action's trace.
   */
  private inActionTrace<T>(name: string, actionId: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    return inSpan(name, attributes, async (span) => {
      // Only while recording: with tracing off this costs no query.
      if (!span.isRecording()) return fn();
      const stored = parseActionTrace(await this.actionTrace(actionId));
      if (!stored) return fn();
      span.addLinks(linkTo(stored.traceparent));
      return context.with(withActionTrace(context.active(), stored), fn);
    });
  }
}

/** The engine's refusals (not eligible, already decided, …) are answers, not errors of the span. */
function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (err instanceof DomainError) span.setAttribute('countersign.refused', err.code);
      else {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}
