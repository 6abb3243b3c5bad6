import { DomainError, type SealedArtifact } from '@countersign/contracts';
import type { ActionRecord, VoteRecord } from '../action.ts';
import type { Caller } from '../keys/key-service.ts';
import type { GateDeps } from './deps.ts';
import { expireIfDue } from './expire.ts';
import { isPastExpiry } from './finalize.ts';
import { toView, type ActionView } from './view.ts';
import { approverRolesNow, currentApprovals } from '../slots.ts';

export type ReadCheck = (action: ActionRecord, caller: Caller) => boolean;

/**
 * Who may read an action: its requester (the key's principal), the person it is on behalf of,
 * the agent's owner, and anyone who could take part in deciding it (a role of its requirement
 * or an override role). Everyone else gets not_found, so ids are not an oracle.
 */
export function mayRead(action: ActionRecord, caller: Caller): boolean {
  const p = caller.principal;
  if (p.id === action.actorId || p.id === action.onBehalfOf || p.id === action.ownerId) return true;
  if (p.kind !== 'person') return false;
  const roles = new Set([...(action.requirement?.groups.map((g) => g.role) ?? []), ...action.overrideRoles]);
  return p.roles.some((r) => roles.has(r));
}

/** `may` widens who reads (audit roles, see access.ts); the default is the parties only. */
export async function load(deps: GateDeps, id: string, caller: Caller, may: ReadCheck = mayRead): Promise<ActionRecord> {
  let action = await deps.store.findAction(id);
  if (!action || !may(action, caller)) throw new DomainError('not_found', `No action ${id}.`);
  // A pending action past its expiry is closed on read: nobody ever sees it as still open.
  if (isPastExpiry(action, deps.clock.now())) {
    await expireIfDue(deps, id);
    action = (await deps.store.findAction(id))!;
  }
  return action;
}

export async function readAction(deps: GateDeps, id: string, caller: Caller): Promise<ActionView> {
  const action = await load(deps, id, caller);
  return viewOf(deps, action, caller);
}

/**
 * A release token goes only to the requesting side: the principal that submitted the action
 * or the person it acts for. Approvers, owners and auditors see the decision, never the token
 * (a release can be redeemed once; whoever holds it can spend it).
 */
export function mayHoldRelease(action: ActionRecord, caller: Caller | undefined): boolean {
  if (!caller) return false;
  const id = caller.principal.id;
  return id === action.actorId || (action.onBehalfOf !== null && id === action.onBehalfOf);
}

/**
 * Whether a release token is handed to `caller`: the requesting side, unless countersign runs
 * the action itself (held execution: the requirement names an executor). Then the executor gets
 * the only token, with the request countersign sends; a token in the agent's hands too would be
 * a second way to run one approval, to a destination of the agent's choosing (review s14 b).
 */
export function mayReceiveRelease(action: ActionRecord, caller: Caller | undefined): boolean {
  return mayHoldRelease(action, caller) && !action.requirement?.executor;
}

export async function viewOf(deps: GateDeps, action: ActionRecord, releaseTo?: Caller): Promise<ActionView> {
  const [votes, artifact] = await Promise.all([
    action.requirement ? deps.store.votesFor(action.id) : Promise.resolve([]),
    deps.store.latestArtifactFor(action.id),
  ]);
  return viewFrom(deps, action, votes, artifact, releaseTo);
}

/** viewOf with the votes and the latest artifact already read. */
export async function viewFrom(deps: GateDeps, action: ActionRecord, votes: VoteRecord[], artifact: SealedArtifact | null, releaseTo?: Caller): Promise<ActionView> {
  // Release tokens are minted on read and short-lived.
  const release = action.status === 'approved' && mayReceiveRelease(action, releaseTo) ? await deps.release.issue(action) : undefined;
  // Pending progress is shown as it counts now (a revoked role no longer fills its slot).
  const directory = deps.config.current().directory;
  const approvalsNow = action.status === 'pending' ? currentApprovals(votes, approverRolesNow(action, directory)) : undefined;
  const view = toView(action, votes, artifact, release, approvalsNow);
  // The requesting side may recompute the hash its release token is bound to.
  if (mayHoldRelease(action, releaseTo)) view.normalizedIntent = action.intent;
  return view;
}

/**
 * Long-poll: resolves as soon as the action is final, or after `waitSeconds`. Woken by the
 * decision bus (Postgres NOTIFY), never by polling the database in a loop; a timer at the
 * action's expiry closes it if nothing else has.
 */
export async function waitForAction(
  deps: GateDeps,
  id: string,
  caller: Caller,
  waitSeconds: number,
  signal?: AbortSignal,
  may: ReadCheck = mayRead,
): Promise<ActionView> {
  const action = await waitForDecision(deps, await load(deps, id, caller, may), waitSeconds, signal);
  return viewOf(deps, action, caller);
}

/** The action as it is once final, or after `waitSeconds` (the wait of waitForAction). */
export async function waitForDecision(deps: GateDeps, action: ActionRecord, waitSeconds: number, signal?: AbortSignal): Promise<ActionRecord> {
  if (action.status !== 'pending' || waitSeconds <= 0) return action;
  await waitUntilDecided(deps, action, waitSeconds, signal);
  return (await deps.store.findAction(action.id))!;
}

/**
 * A subscription to one action's decision, taken before the action is read: a decision
 * committed after it wakes the wait, one committed before is already in the read, so the wait
 * needs no second look at the database (the read-after-subscribe waitUntilDecided does
 * otherwise). `stop` whatever happens.
 */
export interface DecisionWatch {
  readonly notified: Promise<void>;
  stop(): void;
}

export function watchDecision(deps: Pick<GateDeps, 'bus'>, actionId: string): DecisionWatch {
  let unsubscribe: () => void = () => undefined;
  let stopped = false;
  const notified = new Promise<void>((resolve) => {
    unsubscribe = deps.bus.subscribe(actionId, resolve);
  });
  return {
    notified,
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
    },
  };
}

/**
 * Resolves once the pending `action` is final, or after `waitSeconds`; the caller reads what
 * it needs afterwards. With `watch` (taken before `action` was read) the bus is already
 * listened to; without, it subscribes now and looks at the action once more, for a decision
 * that landed between the read and the subscription.
 */
export async function waitUntilDecided(deps: GateDeps, action: ActionRecord, waitSeconds: number, signal?: AbortSignal, watch?: DecisionWatch): Promise<void> {
  if (action.status !== 'pending' || waitSeconds <= 0) return;
  const id = action.id;

  await new Promise<void>((resolve) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const done = () => {
      if (settled) return;
      settled = true;
      unsubscribe();
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    let unsubscribe: () => void;
    if (watch) {
      unsubscribe = () => watch.stop();
      void watch.notified.then(done);
    } else {
      unsubscribe = deps.bus.subscribe(id, done);
    }
    timers.push(setTimeout(done, waitSeconds * 1000));
    if (action.expiresAt) {
      const untilExpiry = action.expiresAt.getTime() - deps.clock.now().getTime();
      if (untilExpiry < waitSeconds * 1000) {
        // A failed close (database down) still ends the wait: the answer's read then reports
        // what is so (or fails), and no rejection is left unhandled to end the process.
        timers.push(setTimeout(() => void expireIfDue(deps, id).then(done, done), Math.max(0, untilExpiry) + 5));
      }
    }
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done);
    if (!watch) {
      // The decision may have landed between the first read and the subscription.
      void deps.store.findAction(id).then((a) => {
        if (a && a.status !== 'pending') done();
      }, done);
    }
  });
}
