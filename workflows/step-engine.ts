import { ActivityFailure, allHandlersFinished, ApplicationFailure, condition, workflowInfo, type LocalActivityOptions } from '@temporalio/workflow';
import type { WorkflowArchive } from '../activities/archive.js';
import type { AuditDelivery } from '../activities/index.js';
import type { Notification, RefusedNotification } from '../activities/notifier.js';
import { AUDIT_REJECTED, IDEMPOTENCY_KEY_REUSED, STEP_FORBIDDEN, STEP_NOT_RECORDED, STEP_REFUSED } from '../domain/failures.js';
import { activityApplicationFailure, numberedNotification, WakeUpTimer, type WakeUpMark } from './workflow-runtime.js';

/**
 * The one step engine both long-running workflows (lead and deal) run on. It guarantees, for every record:
 * - nothing is applied before the workflow's own first step (intake, routing, CS owner) is done;
 * - steps, timers and background writes run one at a time, in arrival order, so a step never sees a
 *   state another step changed halfway, and re-checks its rules when its turn comes;
 * - a step answers only once its audit rows are committed, and its notifications are sent only then;
 * - a step that cannot be recorded (the database refuses the data) changes nothing and is refused,
 *   and the record stays answerable;
 * - a step retried with the same idempotency key applies once.
 */


/** Who sends a step: the caller's actor and role, and the client's idempotency key with a fingerprint of its request. */
export interface StepRequest {
  actor: string;
  /** The caller's role; absent only on steps recorded before roles were passed (treated as privileged). */
  role?: 'sales' | 'cs' | 'ops' | 'manager';
  requestKey?: string;
  fingerprint?: string;
}

export interface AppliedRequest {
  key: string;
  fingerprint: string;
  /** The last audit event the step wrote. */
  seq: number;
}

/** The part of a record's state the engine keeps; carried whole across continue-as-new. */
export interface EngineState {
  lastEventSeq: number;
  notificationsSent: number;
  /** The idempotency keys of the latest steps, so a retry after continue-as-new or close still applies once. */
  recentRequests?: AppliedRequest[];
}

/** What a step answers: the record as the step left it, and the request that produced it. */
export type StepAnswer<View> = View & { request?: AppliedRequest | null };

const REMEMBERED_REQUESTS = 64;

/**
 * The patch under which a step is one workflow task: its audit write (and routing, the CS-owner draw, the
 * archive) runs as a local activity in the task that carries the step, search attributes given at start are
 * not upserted again, and the wake-up timer is kept while the next wake-up moves later. Runs started before
 * it replay on the activity path. Retire it as README "Retiring a patch" says.
 */
export const ONE_TASK_STEP = 'one-task-step';

/**
 * Patch: fewer billed actions per lead. No timer wakes a lead at its due-soon mark (the DueSoonAt search
 * attribute shows it), NextDeadline holds only the response deadline, and an idle wake-up timer is kept
 * rather than cancelled. Runs started before it replay with the timers and upserts they recorded.
 */
export const LEAN_CLOCKS = 'lean-clocks';

/**
 * Patch: runs started since it take every earlier change (step-engine, nurture-keeps-owner, one-task-step,
 * lean-clocks) on this one check. Each patch check a run makes records a marker and a TemporalChangeVersion
 * upsert (a visibility write), and a lead makes them again after every continue-as-new; one check instead of
 * three or four. Older runs find no such marker and ask for each change as before, so their histories replay.
 */
export const ENGINE_2026_12 = 'engine-2026-12';

/**
 * Patch: the engine generation runs start on now, checked before ENGINE_2026_12 (one marker either way). It adds
 * two changes: a commit no one waits on (intake, a wake-up) carries its notifications in the same local activity
 * (`writeAuditAndNotify`), one activation and one history marker fewer each time; and a step that leaves nothing
 * due does not send the clocks through the gate (`skipStepWakeUps`). Runs started before it find no such marker
 * and run as ENGINE_2026_12 says.
 */
export const CURRENT_ENGINE = 'engine-2027-01';

/** How long a commit that carries notifications spends delivering them before handing the rest to the durable notifyAll. */
export const NOTIFY_WITH_AUDIT_WITHIN_MS = 1_000;

/**
 * Local writes are bounded well inside the API's step timeout (10 s by default) and the workflow task's (10 s):
 * a database that does not answer within 5 s hands the write to the durable activity (see localFirst).
 */
/**
 * Notifications no one waits on (intake, wake-ups) go out inside the task that committed them, where the
 * task's marker already costs its action: one attempt of at most 2 s, so a slow or failing webhook holds the
 * record's task no longer than that before the durable activity takes over with its retries.
 */
export const ONE_TASK_NOTIFY_LOCAL_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 1 },
};

export const ONE_TASK_STEP_LOCAL_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '2 seconds',
  scheduleToCloseTimeout: '5 seconds',
  retry: { initialInterval: '100 milliseconds', backoffCoefficient: 2, maximumInterval: '1 second', nonRetryableErrorTypes: [AUDIT_REJECTED] },
};

export interface StagedEvent {
  seq: number;
  /** When it happened: the task time it was staged in, which an await inside the step may have moved on from. */
  at: string;
  type: string;
  actor: string;
  payload: Record<string, unknown>;
}

interface NumberedNotification {
  type: string;
  notification: Notification;
}

interface StagedNotification {
  type: string;
  recipients: Array<string | null>;
  summary: string;
  details: Record<string, unknown>;
}

export interface StepEngineOptions<State extends EngineState, Event> {
  workflowId: string;
  state: State;
  now: () => Date;
  /** Builds the audit row for one staged event, with the record's projection as the event leaves it. */
  toAuditEvent: (event: StagedEvent) => Event;
  /** The audit activity: all of a step's events in one call and one transaction. */
  writeAudit: (events: Event[]) => Promise<void>;
  sendNotification: (notification: Notification) => Promise<void>;
  /**
   * When given, the notifications one step (or wake-up) staged go out in one call, answering those refused for
   * good. `answerWaits`: a person waits for the step's answer, which the workflow task carrying it delivers, so
   * the call should not hold that task (a local activity would).
   */
  sendNotifications?: (notifications: Notification[], answerWaits: boolean) => Promise<RefusedNotification[]>;
  /**
   * When given (with sendNotifications), a commit no one waits on (intake, a wake-up) and the notifications staged
   * with it go in one call: the audit, then, once it is committed, the notifications. What it could not deliver
   * goes out through `sendNotifications(…, true)`, what was refused for good is recorded as failed.
   */
  writeAuditAndNotify?: (events: Event[], notifications: Notification[]) => Promise<AuditDelivery>;
  /** Fields every notification of this record carries (its ID, stage, ...). */
  notificationDetails: () => Record<string, unknown>;
  /** Called after every change, e.g. to upsert search attributes. */
  afterChange: () => void;
  /** Workflow locals outside `state` a step may change (the policy after a migration), to restore on refusal. */
  locals?: { capture: () => unknown; restore: (saved: unknown) => void };
  /** Keep a running timer while the next wake-up moves later (see WakeUpTimer); false for runs started before it. */
  keepEarlierTimer?: boolean;
  /** Keep a running timer while nothing is pending (see WakeUpTimer); false for runs started before patch 'lean-clocks'. */
  keepIdleTimer?: boolean;
  /**
   * Go back to sleep without a background pass when a step woke the clocks and nothing is due (each pass is a turn
   * of the gate on the step's answer path); false for runs started before CURRENT_ENGINE, whose histories hold it.
   */
  skipStepWakeUps?: boolean;
}

export class StepEngine<State extends EngineState, Event> {
  /** Bumped by every change; the main loop re-arms its timer when it moves. */
  revision = 0;
  private initialized = false;
  private gate: Promise<void> = Promise.resolve();
  private written: Promise<void> = Promise.resolve();
  private staged: StagedEvent[] = [];
  private outbox: StagedNotification[] = [];
  /** Numbered notifications a commit was to carry but did not (its audit failed): sent with the next dispatch. */
  private unsent: NumberedNotification[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: StepEngineOptions<State, Event>) {}

  private get state(): State {
    return this.options.state;
  }

  /**
   * Runs `work` alone: after everything that asked before it, before everything that asks after. Steps,
   * timers and background writes all pass here, so none of them interleaves with another at an await.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => (release = resolve));
    return previous.then(work).finally(release);
  }

  /**
   * The workflow's own first step. Call it before registering any handler: it takes the gate first, so
   * steps delivered with the first task wait behind it.
   */
  initialize(work: () => Promise<void>): Promise<void> {
    return this.exclusive(async () => {
      await work();
      this.options.afterChange();
      await this.commitOrFail('intake', true);
      this.initialized = true;
      this.dispatchOutbox(false);
    });
  }

  /**
   * For update validators. A retry of an applied step passes (a key reused for another request is refused);
   * otherwise `check(settled)` gets false until the first step is done: then only the rules intake
   * cannot change (the stage) are checked here, and who owns the record is checked when the step's turn comes.
   */
  checkInValidator(request: StepRequest, check: (settled: boolean) => void): void {
    // A retry of a step this record already applied passes: its handler answers with what the step left.
    if (this.remembered(request)) return;
    check(this.initialized);
  }

  /** Stages an audit event with its sequence number now, so the audit keeps the order things happened in. */
  record(type: string, actor: string, payload: Record<string, unknown>): number {
    const seq = ++this.state.lastEventSeq;
    this.staged.push({ seq, at: this.options.now().toISOString(), type, actor, payload });
    return seq;
  }

  /** Stages a notification; it is sent once the events staged with it are committed, never for a refused step. */
  notify(type: string, recipients: Array<string | null>, summary: string, details: Record<string, unknown>): void {
    this.outbox.push({ type, recipients, summary, details: { ...this.options.notificationDetails(), ...details } });
  }

  changed(): void {
    this.revision += 1;
  }

  /**
   * One step from a person: waits its turn, answers a retried request with the state it left, re-checks the
   * step's rules, applies it, and answers once its audit rows are committed. A step whose rules no longer
   * hold, or that the database refuses to record, changes nothing.
   */
  step<View>(request: StepRequest, check: (settled: true) => void, apply: () => Promise<void> | void, view: () => View): Promise<StepAnswer<View>> {
    return this.exclusive(async () => {
      const earlier = this.remembered(request);
      if (earlier) return { ...view(), request: earlier };
      check(true);
      const saved = this.capture();
      try {
        await apply();
        this.changed();
        this.options.afterChange();
        await this.commitStaged();
      } catch (error) {
        this.restore(saved);
        if (!isAuditRejected(error)) throw error;
        this.record('step-not-recorded', request.actor, { reason: auditRejection(error) });
        await this.commitOrFail('the refusal of a step');
        throw ApplicationFailure.nonRetryable(`the step could not be recorded and was not applied: ${auditRejection(error)}`, STEP_NOT_RECORDED);
      }
      const applied = this.remember(request);
      this.dispatchOutbox(true);
      return { ...view(), request: applied };
    });
  }

  /**
   * Work the workflow does itself (a timer fired): applied whatever the database says, since time has passed
   * either way. If the audit refuses its rows, the refusal itself is recorded in their place.
   */
  background(work: () => Promise<void>): Promise<void> {
    return this.exclusive(async () => {
      await work();
      this.changed();
      this.options.afterChange();
      try {
        await this.commitStaged(true);
      } catch (error) {
        if (!isAuditRejected(error)) throw error;
        this.staged = [];
        this.record('audit-write-failed', 'system', { reason: auditRejection(error) });
        await this.commitOrFail('an audit failure');
      }
      this.dispatchOutbox(false);
    });
  }

  /**
   * The record's clocks: sleeps until the next wake-up (or until a step moves it), then handles every wake-up
   * that is due through the same gate as the steps, so a timer acts on the record the last step left. Returns
   * when the run should end (`running` false) or its history has grown enough to continue as new.
   */
  async runClocks<Wake extends WakeUpMark>(clocks: { running: () => boolean; pending: () => Wake[]; onWakeUp: (wake: Wake) => Promise<void> }): Promise<void> {
    const timer = new WakeUpTimer(this.options.keepEarlierTimer ?? false, this.options.keepIdleTimer ?? false);
    while (clocks.running() && !workflowInfo().continueAsNewSuggested) {
      timer.arm(clocks.pending()[0]);
      const seen = this.revision;
      const fired = await timer.untilFiredOr(() => this.revision !== seen);
      const nextDue = () => clocks.pending().find((wake) => wake.at <= this.options.now().toISOString());
      // Woken by a step with nothing due: the step already refreshed what the record shows, at this same instant.
      if (this.options.skipStepWakeUps && fired !== true && !nextDue()) continue;
      await this.background(async () => {
        for (;;) {
          const due = nextDue();
          if (!due || !clocks.running()) break;
          await clocks.onWakeUp(due);
        }
      });
    }
    timer.cancel();
  }

  /**
   * Waits until no handler runs and no notification is in flight: a step accepted while the run was
   * finishing may start more work, and the run closes (or continues as new) only after it.
   */
  async settle(): Promise<void> {
    do {
      await condition(allHandlersFinished);
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      await this.exclusive(() => this.written);
    } while (!allHandlersFinished() || this.inFlight.size > 0);
  }

  // ---- internals --------------------------------------------------------------------------------------

  /**
   * Writes what is staged, after every earlier write, so "committed" always means "and all before it". With
   * `carryOutbox` (a commit no one waits on) and `writeAuditAndNotify`, the notifications staged so far go with it.
   */
  private commitStaged(carryOutbox = false): Promise<void> {
    const events = this.staged.splice(0);
    if (events.length === 0) return this.written;
    const rows = events.map((event) => this.options.toAuditEvent(event));
    const writeAndNotify = carryOutbox && this.options.sendNotifications ? this.options.writeAuditAndNotify : undefined;
    const batch = writeAndNotify ? this.numberOutbox() : [];
    const write = this.written.then(async () => {
      if (batch.length === 0) return this.options.writeAudit(rows);
      let delivery: AuditDelivery;
      try {
        delivery = await writeAndNotify!(rows, batch.map((entry) => entry.notification));
      } catch (error) {
        // Not committed, so nothing was sent: they go out with the next dispatch, after whatever is recorded instead.
        this.unsent.push(...batch);
        throw error;
      }
      this.recordRefused(batch, delivery.refused);
      const undelivered = new Set(delivery.undelivered);
      this.sendBatch(
        batch.filter((entry) => undelivered.has(entry.notification.idempotencyKey)),
        (notifications) => this.options.sendNotifications!(notifications, true),
      );
    });
    this.written = write.catch(() => undefined);
    return write;
  }

  /** A write that must succeed for the record to exist at all (intake, or the note that a step was refused). */
  private async commitOrFail(what: string, carryOutbox = false): Promise<void> {
    try {
      await this.commitStaged(carryOutbox);
    } catch (error) {
      if (!isAuditRejected(error)) throw error;
      throw ApplicationFailure.nonRetryable(`the audit refused ${what}: ${auditRejection(error)}`, STEP_NOT_RECORDED);
    }
  }

  private dispatchOutbox(answerWaits: boolean): void {
    const send = this.options.sendNotifications;
    if (send) return this.sendBatch([...this.unsent.splice(0), ...this.numberOutbox()], (notifications) => send(notifications, answerWaits));
    for (const staged of this.outbox.splice(0)) {
      this.state.notificationsSent += 1;
      const notification = numberedNotification(this.options.workflowId, this.state.notificationsSent, { ...staged, at: this.options.now().toISOString() });
      const sent: Promise<void> = this.options
        .sendNotification(notification)
        .catch((error: unknown) =>
          this.background(async () => {
            this.record('notification-failed', 'system', { type: staged.type, idempotencyKey: notification.idempotencyKey, reason: failureMessage(error) });
          }),
        )
        .finally(() => this.inFlight.delete(sent));
      this.inFlight.add(sent);
    }
  }

  /** Numbers what the outbox holds, in staging order, and empties it. */
  private numberOutbox(): NumberedNotification[] {
    return this.outbox.splice(0).map((staged) => {
      this.state.notificationsSent += 1;
      return { type: staged.type, notification: numberedNotification(this.options.workflowId, this.state.notificationsSent, { ...staged, at: this.options.now().toISOString() }) };
    });
  }

  /** A batch in one call; a notification refused, or not delivered within its bound, is recorded as failed. */
  private sendBatch(batch: NumberedNotification[], send: (notifications: Notification[]) => Promise<RefusedNotification[]>): void {
    if (batch.length === 0) return;
    const sent: Promise<void> = send(batch.map((entry) => entry.notification))
      .then(
        (refused) => this.recordRefused(batch, refused),
        (error: unknown) => this.recordRefused(batch, batch.map((entry) => ({ idempotencyKey: entry.notification.idempotencyKey, reason: failureMessage(error) }))),
      )
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /**
   * Records each failed notification of `batch` in the audit, as background work after whatever holds the gate
   * now; in flight until recorded, so the run does not end before it.
   */
  private recordRefused(batch: NumberedNotification[], failed: RefusedNotification[]): Promise<void> | undefined {
    if (failed.length === 0) return undefined;
    const recorded: Promise<void> = this.background(async () => {
      for (const { idempotencyKey, reason } of failed) {
        const type = batch.find((entry) => entry.notification.idempotencyKey === idempotencyKey)?.type;
        this.record('notification-failed', 'system', { type, idempotencyKey, reason });
      }
    }).finally(() => this.inFlight.delete(recorded));
    this.inFlight.add(recorded);
    return recorded;
  }

  private remembered(request: StepRequest): AppliedRequest | null {
    if (!request.requestKey) return null;
    const earlier = (this.state.recentRequests ?? []).find((entry) => entry.key === request.requestKey);
    if (!earlier) return null;
    if (earlier.fingerprint !== request.fingerprint) {
      throw ApplicationFailure.nonRetryable(
        `Idempotency-Key ${request.requestKey} was already used for a different request on this record`,
        IDEMPOTENCY_KEY_REUSED,
      );
    }
    return earlier;
  }

  private remember(request: StepRequest): AppliedRequest | null {
    if (!request.requestKey) return null;
    const applied = { key: request.requestKey, fingerprint: request.fingerprint ?? '', seq: this.state.lastEventSeq };
    this.state.recentRequests = [...(this.state.recentRequests ?? []), applied].slice(-REMEMBERED_REQUESTS);
    return applied;
  }

  private capture(): { state: string; locals: unknown } {
    return { state: JSON.stringify(this.state), locals: this.options.locals?.capture() };
  }

  private restore(saved: { state: string; locals: unknown }): void {
    const state = this.state as Record<string, unknown>;
    for (const key of Object.keys(state)) delete state[key];
    Object.assign(state, JSON.parse(saved.state));
    this.options.locals?.restore(saved.locals);
    this.staged = [];
    this.outbox = [];
    this.options.afterChange();
  }
}

/** The state as callers see it: the idempotency ledger is the engine's own bookkeeping, not part of the record. */
export function withoutLedger<State extends EngineState>(state: State): Omit<State, 'recentRequests'> {
  const { recentRequests: _ledger, ...visible } = state;
  return visible;
}

/** The final state a closing record leaves in the archive, where the API finds it once Temporal has forgotten the run. */
export function finalArchive(kind: WorkflowArchive['kind'], subjectId: string, outcome: string, state: EngineState): WorkflowArchive {
  const { workflowId, runId } = workflowInfo();
  // new Date() is replay-safe here: the workflow sandbox makes it the current task's time.
  return { workflowId, kind, subjectId, runId, outcome, closedAt: new Date().toISOString(), finalState: { ...state } };
}

/** Refuses a step with a reason the API answers as 409 (not now) or 403 (not yours). */
export function refuse(reason: string | null, type: typeof STEP_REFUSED | typeof STEP_FORBIDDEN = STEP_REFUSED): void {
  if (reason) throw ApplicationFailure.nonRetryable(reason, type);
}

function isAuditRejected(error: unknown): boolean {
  return activityApplicationFailure(error)?.type === AUDIT_REJECTED;
}

function auditRejection(error: unknown): string {
  return activityApplicationFailure(error)?.message ?? String(error);
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}
