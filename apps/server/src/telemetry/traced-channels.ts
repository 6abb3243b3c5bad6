import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ChannelError, type ApprovalChannel, type ChannelName } from '@countersign/core';
import { tracer } from '@countersign/queue';

// Every call to a chat service as a span (inside the job that makes it), wrapped where every
// channel is registered: a channel module needs no tracing code of its own.

const TRACED = new Set<PropertyKey>(['resolveTargets', 'postCard', 'updateCard', 'remind', 'notifyPerson', 'findCard', 'deleteCard']);

/** Replaces every channel in `channels` by one whose calls are spans. */
export function traceChannels(channels: Map<ChannelName, ApprovalChannel>): void {
  for (const [name, channel] of channels) channels.set(name, tracedChannel(channel));
}

function tracedChannel(channel: ApprovalChannel): ApprovalChannel {
  const traced = (method: string, call: () => Promise<unknown>) =>
    tracer().startActiveSpan(`countersign.channel ${method}`, { kind: SpanKind.CLIENT, attributes: { 'countersign.channel': channel.name } }, async (span) => {
      try {
        return await call();
      } catch (err) {
        if (err instanceof ChannelError) span.setAttributes({ 'countersign.channel.error': err.code, 'countersign.channel.retryable': err.retryable });
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  return new Proxy(channel, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (TRACED.has(prop)) return (...args: unknown[]) => traced(String(prop), () => method.apply(target, args));
      return method.bind(target);
    },
  });
}
