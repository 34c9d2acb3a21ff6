import { allHandlersFinished, CancellationScope, condition, sleep } from '@temporalio/workflow';
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
  private current: { at: string; fired: Promise<boolean>; scope: CancellationScope } | null = null;

  arm(wake: WakeUpMark | undefined): void {
    if (this.current && wake && this.current.at === wake.at) return;
    this.cancel();
    if (!wake) return;
    const scope = new CancellationScope();
    // Date.now() in the workflow sandbox is the current task's time, so the delay is the same on replay.
    const delay = Math.max(1, Date.parse(wake.at) - Date.now());
    const fired = scope.run(() => sleep(delay, { summary: wake.label })).then(
      () => true,
      () => false,
    );
    this.current = { at: wake.at, fired, scope };
  }

  /** Resolves when the armed timer fires or `changed()` holds, whichever comes first. */
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
