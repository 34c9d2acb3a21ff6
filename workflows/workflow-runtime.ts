import { ActivityFailure, allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, sleep, TemporalFailure } from '@temporalio/workflow';
import type { Notification } from '../activities/notifier.js';

/** Building blocks both long-running workflows (lead and deal) share: their next wake-up and their background work. */

export interface WakeUpMark {
  at: string;
  /** Shown as the timer's summary in the Temporal UI. */
  label: string;
}

/**
 * One durable timer for the next wake-up, restarted only when that instant moves: every timer started is
 * a billed action and a history event, so a step that leaves the next deadline where it was costs none.
 */
export class WakeUpTimer {
  private current: { at: string; fired: Promise<boolean>; scope: CancellationScope; spent: boolean } | null = null;

  /**
   * @param keepEarlier keep a running timer while the next wake-up is later than it: it fires early, finds
   * nothing due and is re-armed once, instead of a new timer for every step that moves the wake-up later
   * (each contact attempt moves the next one). Runs started before this (patch 'one-task-step') re-arm on every move.
   * @param keepWhenIdle keep it too while nothing is pending: a wake-up that comes later (an opportunity's
   * hygiene check once the lead is qualified) then needs no timer of its own unless the kept one fires first.
   * A cancelled timer saves nothing (only a started one is billed); runs before patch 'lean-clocks' cancel it.
   */
  constructor(
    private readonly keepEarlier = false,
    private readonly keepWhenIdle = false,
  ) {}

  arm(wake: WakeUpMark | undefined): void {
    if (this.current && wake && this.current.at === wake.at) return;
    // A timer that already fired is spent whatever its instant: keeping it would wake the loop at once, forever.
    const live = this.current !== null && !this.current.spent;
    if (this.keepEarlier && live && wake && Date.parse(this.current!.at) < Date.parse(wake.at)) return;
    if (this.keepWhenIdle && live && !wake) return;
    this.cancel();
    if (!wake) return;
    const scope = new CancellationScope();
    // Date.now() in the workflow sandbox is the current task's time, so the delay is the same on replay.
    const delay = Math.max(1, Date.parse(wake.at) - Date.now());
    const current = { at: wake.at, fired: Promise.resolve(false), scope, spent: false };
    current.fired = scope.run(() => sleep(delay, { summary: wake.label })).then(
      () => (current.spent = true),
      () => false,
    );
    this.current = current;
  }

  /** Resolves when the armed timer fires (to true) or `changed()` holds (to anything else), whichever comes first. */
  untilFiredOr(changed: () => boolean): Promise<unknown> {
    return Promise.race([this.current?.fired ?? new Promise<never>(() => {}), condition(changed)]);
  }

  cancel(): void {
    this.current?.scope.cancel();
    this.current = null;
  }
}

/** Activities a workflow starts without waiting for (audit flushes, notifications); drained before the run ends. */
export class BackgroundWork {
  private readonly inFlight = new Set<Promise<unknown>>();

  add(promise: Promise<unknown>): void {
    const tracked = promise.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Waits for everything in flight, including work started while waiting. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  get idle(): boolean {
    return this.inFlight.size === 0;
  }
}

/**
 * A notification numbered within its workflow, so its idempotency key is stable across retries and replays;
 * with nobody to address (no owner yet) it goes to 'unassigned', where ops pick it up.
 */
export function numberedNotification(
  workflowId: string,
  number: number,
  fields: { type: string; recipients: Array<string | null>; at: string; summary: string; details: Record<string, unknown> },
): Notification {
  const to = fields.recipients.filter((recipient): recipient is string => Boolean(recipient));
  return {
    idempotencyKey: `${workflowId}:notification-${number}-${fields.type}`,
    type: fields.type,
    subjectId: workflowId,
    recipients: to.length > 0 ? to : ['unassigned'],
    at: fields.at,
    summary: fields.summary,
    details: fields.details,
  };
}

/**
 * Waits until no update handler runs and no background work is in flight, flushing the audit after each
 * round: a step accepted while the run was finishing may start more work, and the run closes only after it.
 */
export async function settleBeforeClosing(background: BackgroundWork, flush: () => Promise<void>): Promise<void> {
  do {
    await condition(allHandlersFinished);
    await background.drain();
    await flush();
  } while (!allHandlersFinished() || !background.idle);
}

/**
 * A write the next step waits on, run first as a local activity inside the workflow task that carries the step,
 * so a step costs one task and one server round trip. When the local attempt cannot finish within its bound
 * (the database slow or away), the same rows go to the durable activity, which retries until the database
 * answers: the step keeps its place and its sequence numbers, so a write that did commit just before the
 * bound is found by its idempotency keys and not repeated, and no later event can reuse those numbers (as it
 * could if the step were rolled back). Meanwhile the API answers 503 and a retry with the same key waits for
 * this same step. A refusal no retry can fix (non-retryable failure) is passed on as it is.
 */
export function localFirst<Args extends unknown[], Result>(
  local: (...args: Args) => Promise<Result>,
  durable: (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  return async (...args) => {
    try {
      return await local(...args);
    } catch (error) {
      const refused = activityApplicationFailure(error)?.nonRetryable === true;
      if (refused || isCancellation(error) || !(error instanceof TemporalFailure)) throw error;
      return durable(...args);
    }
  };
}

/**
 * The application failure an activity ended with: an activity's reaches the workflow wrapped in an
 * ActivityFailure, a local activity's as it is.
 */
export function activityApplicationFailure(error: unknown): ApplicationFailure | null {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? cause : null;
}
