import { ExecutorSchema, type Executor } from '@countersign/contracts';
import { DeliveryError, type ActionRecord, type DeliveryInfo } from '@countersign/core';
import { executorOrigin } from '@countersign/policy';
import type { DeliveryRow } from './delivery-rows.ts';
import type { DeliveryDeps } from './deps.ts';
import { RenderError, renderExecutor } from './render-executor.ts';
import { settle } from './settle.ts';

// Held execution: once people approve, countersign itself sends the request the rule names.
// Once: the Delivery row is claimed before each send and never sent again once delivered or
// failed; the Idempotency-Key (the action id) lets the executor drop a duplicate should a
// worker die mid-request. The result is sealed as an `action.executed` artifact.

export const EXECUTION_KIND = 'execution';
export const RELEASE_TOKEN_HEADER = 'countersign-release-token';

export async function executeAction(deps: DeliveryDeps, actionId: string, attempt: number, info?: DeliveryInfo): Promise<void> {
  // The database decides, not the job: a refused, expired or cancelled action never runs,
  // whoever enqueued what (fail closed).
  const action = await deps.store.findAction(actionId);
  if (!action) throw new DeliveryError(`no action ${actionId}`, false, 'not_found');
  if (action.status !== 'approved') throw new DeliveryError(`action ${actionId} is ${action.status}; it is never executed`, false, 'not_approved');
  const stored = action.requirement?.executor;
  if (!stored) return;

  const previous = await deps.rows.find(actionId, EXECUTION_KIND);
  if (previous && (previous.state === 'delivered' || previous.state === 'failed')) {
    // Done before; make sure its evidence exists (a crash may have come between the two).
    await sealExecution(deps, action, previous, stored.method);
    return;
  }

  const parsed = ExecutorSchema.safeParse(stored);
  if (!parsed.success) return refuse(deps, action, String(stored.url), 'POST', 'the stored executor template is not valid');
  const executor: Executor = parsed.data;

  let request;
  try {
    request = renderExecutor(executor, { intent: action.intent, actionId: action.id, intentHash: action.intentHash }, deps.executorSecret);
  } catch (err) {
    if (err instanceof RenderError) return refuse(deps, action, executor.url, executor.method, `template: ${err.message}`);
    throw err;
  }
  // Checked at policy load and again here, on the URL actually about to be called.
  if (!deps.destinations.executor.allows(request.url)) {
    return refuse(deps, action, request.url, executor.method, 'destination is not allowed (COUNTERSIGN_CALLBACK_ALLOWLIST / COUNTERSIGN_EXECUTOR_ALLOWLIST)');
  }

  const claim = await deps.rows.claim({ actionId, kind: EXECUTION_KIND, url: request.url, idempotencyKey: action.id });
  if (!claim.claimed) {
    if (claim.busy) throw new DeliveryError('another attempt is in flight', true, 'busy', claim.retryAfterMs);
    await sealExecution(deps, action, claim.row, executor.method);
    return;
  }
  const row = claim.row;
  let result;
  try {
    const release = await deps.release.issue(action);
    const headers: Record<string, string> = {
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...lowerCased(request.headers),
      'idempotency-key': action.id,
      'countersign-action-id': action.id,
      // The executor can check with the SDK's verifyRelease that this very intent was approved.
      [RELEASE_TOKEN_HEADER]: release.token,
      'user-agent': 'countersign-executor/1',
    };
    result = await deps.send({ url: request.url, method: request.method, headers, ...(request.body !== undefined ? { body: request.body } : {}), timeoutMs: deps.timeoutMs });
  } catch (err) {
    await deps.rows.finish(row, { state: 'pending', responseStatus: null, error: `internal: ${(err as Error).message}` });
    throw err;
  }

  let final: DeliveryRow;
  try {
    final = await settle(deps.rows, row, result, attempt, info);
  } catch (err) {
    if (err instanceof DeliveryError && !err.retryable) {
      const failed = await deps.rows.find(actionId, EXECUTION_KIND);
      if (failed) await sealExecution(deps, action, failed, executor.method);
    }
    throw err;
  }
  await sealExecution(deps, action, final, executor.method);
}

async function refuse(deps: DeliveryDeps, action: ActionRecord, url: string, method: string, error: string): Promise<never> {
  const row = await deps.rows.failWithoutSending({ actionId: action.id, kind: EXECUTION_KIND, url, idempotencyKey: action.id, error });
  await sealExecution(deps, action, row, method);
  throw new DeliveryError(`execution refused: ${error}`, false, 'execution_refused');
}

/**
 * Seals the outcome once per action. The action's row lock serialises concurrent sealers; the
 * existing-artifact check after it makes a repeat a no-op.
 */
async function sealExecution(deps: DeliveryDeps, action: ActionRecord, row: DeliveryRow, method: string): Promise<void> {
  if (row.state !== 'delivered' && row.state !== 'failed') return;
  await deps.store.transaction(async (tx) => {
    await tx.lockAction(action.id);
    // Read through the transaction holding the lock: one connection, and it sees the winner.
    if (await tx.hasArtifact(action.id, 'action.executed')) return;
    await tx.appendArtifact({
      kind: 'action.executed',
      actionId: action.id,
      intentHash: action.intentHash,
      actionType: action.actionType,
      result: row.state === 'delivered' ? 'succeeded' : 'failed',
      method,
      destination: originOf(row.url),
      idempotencyKey: row.idempotencyKey,
      responseStatus: row.responseStatus,
      attempts: row.attempts,
      error: row.lastError,
    });
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return executorOrigin({ url, method: 'POST', headers: {} }) ?? '(invalid url)';
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
