import { addBusinessMinutes, addDuration, businessMinutesBetween, durationToMs, type BusinessCalendar } from './business-time.js';
import type { Duration, IcpTier, Policy } from './policy.js';

/**
 * The clocks a lead runs under, as plain data the workflow carries (across continue-as-new too):
 * the speed-to-lead deadline with its escalation ladder, and the contact cadence. Every instant here
 * comes from business-time.ts; the workflow only sleeps until `nextWakeUp` and reacts.
 */

/** An instant plus the clock it was measured on, so a pause can shift it the right way. */
export interface DueInstant {
  at: string;
  clock: Duration['clock'];
}

export interface SpeedToLeadClock {
  startedAt: string;
  /** The tier's (or hot class's) allowance; a reassignment gives the new owner this much again. */
  allowance: Duration;
  due: DueInstant;
  breached: boolean;
  /** Index into policy.escalation.levels of the level that fires next. */
  nextLevel: number;
  nextEscalation: DueInstant | null;
}

export interface CadenceClock {
  startedAt: string;
  attemptsDue: DueInstant[];
  /** How many attempts' due-time reminders have gone out. */
  remindedThrough: number;
  windowEnds: DueInstant;
  /** Cadences started before workflows stopped reminding of an attempt due at once keep doing so on replay. */
  remindsAttemptDueAtStart?: boolean;
}

/** The weekly opportunity hygiene check of an SQL: when it runs next and how many reminders went unheeded. */
export interface HygieneClock {
  nextCheckAt: string;
  /** Failing checks in a row so far; a passing check resets it. */
  failedChecks: number;
}

export interface PauseState {
  since: string;
  until: string | null;
  reason: string;
}

export type SlaState = 'on-track' | 'due-soon' | 'breached' | 'none';

export function dueAfter(calendar: BusinessCalendar, from: Date, duration: Duration): DueInstant {
  return { at: addDuration(calendar, from, duration).toISOString(), clock: duration.clock };
}

export function startSpeedToLead(calendar: BusinessCalendar, now: Date, allowance: Duration): SpeedToLeadClock {
  return {
    startedAt: now.toISOString(),
    allowance,
    due: dueAfter(calendar, now, allowance),
    breached: false,
    nextLevel: 0,
    nextEscalation: null,
  };
}

export function startCadence(policy: Pick<Policy, 'cadence'>, calendar: BusinessCalendar, now: Date, remindsAttemptDueAtStart = false): CadenceClock {
  return {
    startedAt: now.toISOString(),
    attemptsDue: policy.cadence.attempts.map((attempt) => dueAfter(calendar, now, attempt.dueAfter)),
    remindedThrough: 0,
    windowEnds: dueAfter(calendar, now, policy.cadence.window),
    ...(remindsAttemptDueAtStart ? { remindsAttemptDueAtStart } : {}),
  };
}

/**
 * The response deadline passed unmet: the clock is breached and the first escalation level counts from the due
 * time. The lead workflow and the policy simulator both take this step here.
 */
export function breachSpeedToLead(calendar: BusinessCalendar, clock: SpeedToLeadClock, levels: Policy['escalation']['levels']): SpeedToLeadClock {
  const level = levels[clock.nextLevel];
  return { ...clock, breached: true, nextEscalation: level ? dueAfter(calendar, new Date(clock.due.at), level.after) : null };
}

/** Escalation level `clock.nextLevel` fired at `now`: the ladder moves one up and the next level counts from now. */
export function climbSpeedToLeadEscalation(calendar: BusinessCalendar, clock: SpeedToLeadClock, levels: Policy['escalation']['levels'], now: Date): SpeedToLeadClock {
  const nextLevel = clock.nextLevel + 1;
  const following = levels[nextLevel];
  return { ...clock, nextLevel, nextEscalation: following ? dueAfter(calendar, now, following.after) : null };
}

/** A new owner (reassignment) gets `allowance` afresh from `now`; the ladder waits for that fresh deadline. */
export function restartSpeedToLeadForNewOwner(calendar: BusinessCalendar, clock: SpeedToLeadClock, allowance: Duration, now: Date): SpeedToLeadClock {
  return { ...clock, allowance, due: dueAfter(calendar, now, allowance), breached: false, nextEscalation: null };
}

/**
 * Moves an instant that was still ahead when the pause began by the time the pause lasted, measured on
 * the instant's own clock: paused business time never counts against a business deadline.
 */
export function shiftForPause(calendar: BusinessCalendar, due: DueInstant, pausedAt: Date, resumedAt: Date): DueInstant {
  const at = new Date(due.at);
  if (at <= pausedAt) return due;
  if (due.clock === 'wall') return { ...due, at: new Date(at.getTime() + (resumedAt.getTime() - pausedAt.getTime())).toISOString() };
  const remaining = businessMinutesBetween(calendar, pausedAt, at);
  return { ...due, at: addBusinessMinutes(calendar, resumedAt, remaining).toISOString() };
}

/**
 * The same instant for an owner on another calendar: a pending business deadline keeps the business time it had
 * left, counted on `to` from `now`; a wall-clock one (and one already passed) stays where it was.
 */
export function moveToCalendar(from: BusinessCalendar, to: BusinessCalendar, due: DueInstant, now: Date): DueInstant {
  const at = new Date(due.at);
  if (due.clock === 'wall' || from.id === to.id || at <= now) return due;
  const remaining = businessMinutesBetween(from, now, at);
  return { ...due, at: addBusinessMinutes(to, now, remaining).toISOString() };
}

export function moveCadenceToCalendar(from: BusinessCalendar, to: BusinessCalendar, clock: CadenceClock, now: Date): CadenceClock {
  return {
    ...clock,
    attemptsDue: clock.attemptsDue.map((due) => moveToCalendar(from, to, due, now)),
    windowEnds: moveToCalendar(from, to, clock.windowEnds, now),
  };
}

export function startHygiene(policy: NonNullable<Policy['hygiene']>, now: Date): HygieneClock {
  return { nextCheckAt: new Date(now.getTime() + durationToMs(policy.checkEvery)).toISOString(), failedChecks: 0 };
}

/** The next check, one interval after this one; `failed` says whether this one found a problem. */
export function advanceHygiene(policy: NonNullable<Policy['hygiene']>, clock: HygieneClock, failed: boolean): HygieneClock {
  return {
    nextCheckAt: new Date(Date.parse(clock.nextCheckAt) + durationToMs(policy.checkEvery)).toISOString(),
    failedChecks: failed ? clock.failedChecks + 1 : 0,
  };
}

export function shiftSpeedToLead(calendar: BusinessCalendar, clock: SpeedToLeadClock, pausedAt: Date, resumedAt: Date): SpeedToLeadClock {
  return {
    ...clock,
    due: shiftForPause(calendar, clock.due, pausedAt, resumedAt),
    nextEscalation: clock.nextEscalation && shiftForPause(calendar, clock.nextEscalation, pausedAt, resumedAt),
  };
}

export function shiftCadence(calendar: BusinessCalendar, clock: CadenceClock, pausedAt: Date, resumedAt: Date): CadenceClock {
  return {
    ...clock,
    attemptsDue: clock.attemptsDue.map((due) => shiftForPause(calendar, due, pausedAt, resumedAt)),
    windowEnds: shiftForPause(calendar, clock.windowEnds, pausedAt, resumedAt),
  };
}

export interface ClockView {
  speedToLead: SpeedToLeadClock | null;
  cadence: CadenceClock | null;
  attemptsMade: number;
  paused: PauseState | null;
  /** Absent on runs from before opportunity hygiene. */
  hygiene?: HygieneClock | null;
}

export interface WakeUp {
  at: string;
  /** Reads well as a timer summary in the Temporal UI. */
  label: string;
  kind: 'speed-to-lead' | 'due-soon' | 'escalation' | 'cadence-attempt' | 'cadence-window' | 'pause-ends' | 'hygiene-check';
  /** For cadence-attempt: which attempt (0-based) comes due. */
  attemptIndex?: number;
}

/**
 * Everything the lead is still waiting for, soonest first; the workflow sleeps until the first. A due-soon
 * mark already reached is left out: it only changes how the lead is shown, never what happens next.
 */
export function pendingWakeUps(view: ClockView, policy: Policy, tierLabel: string, now: Date): WakeUp[] {
  if (view.paused) return view.paused.until ? [{ at: view.paused.until, label: 'Pause ends', kind: 'pause-ends' }] : [];
  const wakeUps: WakeUp[] = [];
  const speed = view.speedToLead;
  if (speed && !speed.breached) {
    const dueSoonAt = dueSoonInstant(speed, policy).toISOString();
    if (dueSoonAt > speed.startedAt && dueSoonAt > now.toISOString()) wakeUps.push({ at: dueSoonAt, label: `${tierLabel} response deadline due soon`, kind: 'due-soon' });
    wakeUps.push({ at: speed.due.at, label: `${tierLabel} response deadline`, kind: 'speed-to-lead' });
  }
  if (speed?.nextEscalation) {
    const level = policy.escalation.levels[speed.nextLevel];
    if (level) wakeUps.push({ at: speed.nextEscalation.at, label: `Escalation ${speed.nextLevel + 1}: ${level.action}`, kind: 'escalation' });
  }
  const cadence = view.cadence;
  if (cadence) {
    const total = cadence.attemptsDue.length;
    cadence.attemptsDue.forEach((due, index) => {
      // An attempt due the moment the cadence starts needs no reminder while the speed-to-lead clock still asks for it.
      const coveredBySpeedToLead = due.at <= cadence.startedAt && view.speedToLead !== null;
      const remind = !coveredBySpeedToLead || cadence.remindsAttemptDueAtStart === true;
      if (remind && index >= cadence.remindedThrough && index >= view.attemptsMade) {
        wakeUps.push({ at: due.at, label: `Attempt ${index + 1} of ${total} due`, kind: 'cadence-attempt', attemptIndex: index });
      }
    });
    wakeUps.push({ at: cadence.windowEnds.at, label: 'Contact cadence window ends', kind: 'cadence-window' });
  }
  if (view.hygiene) wakeUps.push({ at: view.hygiene.nextCheckAt, label: 'Opportunity hygiene check', kind: 'hygiene-check' });
  return wakeUps.sort((a, b) => a.at.localeCompare(b.at));
}

/** When the response deadline turns due soon: `policy.sla.dueSoonBefore` ahead of it (wall clock). */
function dueSoonInstant(speed: SpeedToLeadClock, policy: Policy): Date {
  return new Date(new Date(speed.due.at).getTime() - durationToMs(policy.sla.dueSoonBefore));
}

export function slaStateAt(view: ClockView, policy: Policy, now: Date): SlaState {
  const speed = view.speedToLead;
  if (!speed) return 'none';
  if (speed.breached) return 'breached';
  return now.getTime() >= dueSoonInstant(speed, policy).getTime() ? 'due-soon' : 'on-track';
}

/** The due-soon instant of a running, unbreached, unpaused response deadline, else null: what DueSoonAt shows. */
export function dueSoonAt(view: ClockView, policy: Policy): string | null {
  const speed = view.speedToLead;
  if (!speed || speed.breached || view.paused) return null;
  return dueSoonInstant(speed, policy).toISOString();
}

/**
 * The SLA state as of `now`. A lead that no timer wakes at its due-soon mark (patch 'lean-clocks') last
 * computed its state earlier; its `dueSoonAt` says whether the mark has passed since.
 */
export function slaStateNow(recorded: { slaState: SlaState; dueSoonAt?: string | null }, now: Date): SlaState {
  if (recorded.slaState === 'on-track' && recorded.dueSoonAt && now.toISOString() >= recorded.dueSoonAt) return 'due-soon';
  return recorded.slaState;
}

export interface SlaBudget {
  calendarId: string;
  timeZone: string;
  dueAt: string | null;
  /** Time left before the speed-to-lead deadline on the deadline's own clock; negative once breached. */
  remainingMinutes: number | null;
  clock: Duration['clock'] | null;
}

/** What ops see of the running SLA: the deadline, the time left on its clock, and the calendar it counts in. */
export function slaBudget(speed: SpeedToLeadClock | null, calendar: BusinessCalendar, now: Date): SlaBudget {
  const base = { calendarId: calendar.id, timeZone: calendar.timeZone };
  if (!speed) return { ...base, dueAt: null, remainingMinutes: null, clock: null };
  const due = new Date(speed.due.at);
  const remainingMinutes =
    speed.due.clock === 'business' ? businessMinutesBetween(calendar, now, due) : (due.getTime() - now.getTime()) / 60_000;
  return { ...base, dueAt: speed.due.at, remainingMinutes: Math.round(remainingMinutes * 100) / 100, clock: speed.due.clock };
}

/** The allowance a lead gets to be answered: its tier's, or the hot class's when the policy has one. */
export function speedToLeadDeadline(policy: Policy, tier: IcpTier, hot: boolean): Duration {
  if (hot && policy.speedToLead.hot) return policy.speedToLead.hot;
  return policy.speedToLead[`tier${tier}`];
}
