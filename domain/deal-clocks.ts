import { businessMinutesBetween, durationToMs, type BusinessCalendar } from './business-time.js';
import { dueAfter, type DueInstant } from './lead-clocks.js';
import type { IncidentSeverity } from './deal-lifecycle.js';
import type { DealEscalationLevel, DealPolicy, Duration } from './policy.js';

/**
 * The milestones a closed-won deal owes (dossier, onboarding kickoff, QBRs) as plain data the deal workflow
 * carries across continue-as-new. Every instant comes from business-time.ts; the workflow sleeps until the
 * first of `pendingDealWakeUps` and reacts.
 */

export type MilestoneKind = 'dossier' | 'kickoff' | 'qbr' | `incident-${IncidentSeverity}`;
/** Whose job the milestone is: the sales owner delivers the dossier, the CS owner runs kickoff and QBRs. */
export type MilestoneOwner = 'sales' | 'cs';

export interface MilestoneClock {
  /** 'dossier', 'kickoff', 'qbr-1', 'qbr-2', ...: unique per deal, the key of its deal_milestones row. */
  key: string;
  kind: MilestoneKind;
  /** 'Dossier', 'Onboarding kickoff', 'QBR 1'. */
  label: string;
  /** The policy rule behind the due time, for people: '48 h after win'. */
  rule: string;
  owner: MilestoneOwner;
  /** The instant the allowance counts from (win, signature, previous QBR). */
  startedAt: string;
  due: DueInstant;
  /** When the owner hears the milestone is coming (QBRs), or null. */
  remindAt: string | null;
  reminded: boolean;
  /** Past due without being done: set when the due timer fires, kept when it is done late. */
  breached: boolean;
  /** Index into policy.deal.escalation.levels of the level that fires next. */
  nextLevel: number;
  nextEscalation: DueInstant | null;
  doneAt: string | null;
  /** When the system heard it was done; differs from doneAt when a meeting is reported afterwards. */
  reportedAt: string | null;
  actor: string | null;
  /** Business minutes from startedAt to doneAt. */
  businessMinutesTaken: number | null;
  /** Business minutes from the due time to doneAt, 0 when on time. */
  businessMinutesLate: number | null;
}

/** What the deal_milestones table holds for one milestone. */
export interface MilestoneRecord {
  milestone: string;
  kind: MilestoneKind;
  startedAt: string;
  dueAt: string;
  doneAt: string | null;
  actor: string | null;
  breached: boolean;
  businessMinutesTaken: number | null;
  businessMinutesLate: number | null;
}

export type DealHandoffState = 'on-track' | 'breached';

export interface DealWakeUp {
  at: string;
  /** Reads well as a timer summary in the Temporal UI. */
  label: string;
  kind: 'reminder' | 'due' | 'escalation';
  milestone: string;
}

/** A policy duration for people: '48 h', '5 business days', '14 days'. */
export function describeDuration(duration: Duration): string {
  const { amount, unit, clock } = duration;
  if (clock === 'business') return `${amount} business ${amount === 1 ? unit.slice(0, -1) : unit}`;
  if (unit === 'days') return `${amount} ${amount === 1 ? 'day' : 'days'}`;
  return `${amount} ${{ seconds: 's', minutes: 'min', hours: 'h' }[unit]}`;
}

function milestone(
  fields: Pick<MilestoneClock, 'key' | 'kind' | 'label' | 'rule' | 'owner'>,
  calendar: BusinessCalendar,
  startedAt: Date,
  allowance: Duration,
  remindBefore: Duration | null = null,
): MilestoneClock {
  const due = dueAfter(calendar, startedAt, allowance);
  const remindAt = remindBefore ? new Date(Date.parse(due.at) - durationToMs(remindBefore)) : null;
  return {
    ...fields,
    startedAt: startedAt.toISOString(),
    due,
    // A reminder that would come before the clock even started tells nobody anything.
    remindAt: remindAt && remindAt > startedAt ? remindAt.toISOString() : null,
    reminded: false,
    breached: false,
    nextLevel: 0,
    nextEscalation: null,
    doneAt: null,
    reportedAt: null,
    actor: null,
    businessMinutesTaken: null,
    businessMinutesLate: null,
  };
}

/** The complete dossier reaches CS within policy.deal.dossierDue of the win. */
export function dossierMilestone(policy: DealPolicy, calendar: BusinessCalendar, closedWonAt: Date): MilestoneClock {
  const rule = `${describeDuration(policy.dossierDue)} after win`;
  return milestone({ key: 'dossier', kind: 'dossier', label: 'Dossier', rule, owner: 'sales' }, calendar, closedWonAt, policy.dossierDue);
}

/** The onboarding kickoff is held within policy.deal.kickoffDue of the signature. */
export function kickoffMilestone(policy: DealPolicy, calendar: BusinessCalendar, signedAt: Date): MilestoneClock {
  const rule = `${describeDuration(policy.kickoffDue)} after signature`;
  return milestone({ key: 'kickoff', kind: 'kickoff', label: 'Onboarding kickoff', rule, owner: 'cs' }, calendar, signedAt, policy.kickoffDue);
}

/**
 * QBR 1 falls due policy.deal.firstQbrAfter after the signature: the contract date is known from day one,
 * so the first review is promised even while a kickoff slips. Each later QBR falls due qbrInterval after
 * the previous one was held, so a late review does not squeeze the next quarter.
 */
export function qbrMilestone(policy: DealPolicy, calendar: BusinessCalendar, number: number, anchor: Date): MilestoneClock {
  const allowance = number === 1 ? policy.firstQbrAfter : policy.qbrInterval;
  const rule = number === 1 ? `${describeDuration(allowance)} after signature` : `${describeDuration(allowance)} after QBR ${number - 1}`;
  return milestone(
    { key: `qbr-${number}`, kind: 'qbr', label: `QBR ${number}`, rule, owner: 'cs' },
    calendar,
    anchor,
    allowance,
    policy.qbrReminderBefore,
  );
}

/**
 * An incident's resolution clock (seed 000): the severity's allowance from the moment it was opened, owned by CS.
 * Null when the policy gives the severity no allowance: the incident is recorded without a clock.
 */
export function incidentMilestone(
  policy: DealPolicy,
  calendar: BusinessCalendar,
  incident: { incidentId: string; severity: IncidentSeverity; openedAt: Date },
): MilestoneClock | null {
  const allowance = policy.incidents?.resolveWithin[incident.severity];
  if (!allowance) return null;
  const severity = incident.severity[0]!.toUpperCase() + incident.severity.slice(1);
  return milestone(
    { key: incident.incidentId, kind: `incident-${incident.severity}`, label: `${severity} incident ${incident.incidentId}`, rule: `${describeDuration(allowance)} to resolve`, owner: 'cs' },
    calendar,
    incident.openedAt,
    allowance,
  );
}

export const isIncidentClock = (clock: MilestoneClock): boolean => clock.kind.startsWith('incident-');

/** The milestone done at `doneAt`: on time or late, measured in business minutes on the deal's calendar. */
export function completeMilestone(calendar: BusinessCalendar, clock: MilestoneClock, doneAt: Date, actor: string, reportedAt: Date): MilestoneClock {
  const due = new Date(clock.due.at);
  return {
    ...clock,
    doneAt: doneAt.toISOString(),
    reportedAt: reportedAt.toISOString(),
    actor,
    breached: clock.breached || doneAt > due,
    nextEscalation: null,
    businessMinutesTaken: businessMinutesBetween(calendar, new Date(clock.startedAt), doneAt),
    businessMinutesLate: Math.max(0, businessMinutesBetween(calendar, due, doneAt)),
  };
}

/** The milestone past its due time: the first escalation level is measured from the due time. */
export function breachMilestone(calendar: BusinessCalendar, clock: MilestoneClock, levels: readonly DealEscalationLevel[]): MilestoneClock {
  const first = levels[0];
  return { ...clock, breached: true, nextLevel: 0, nextEscalation: first ? dueAfter(calendar, new Date(clock.due.at), first.after) : null };
}

/** Moves the ladder one level up after level `nextLevel` fired at `now`; the next level counts from now. */
export function advanceEscalation(calendar: BusinessCalendar, clock: MilestoneClock, levels: readonly DealEscalationLevel[], now: Date): MilestoneClock {
  const nextLevel = clock.nextLevel + 1;
  const following = levels[nextLevel];
  return { ...clock, nextLevel, nextEscalation: following ? dueAfter(calendar, now, following.after) : null };
}

export function isOpen(clock: MilestoneClock): boolean {
  return clock.doneAt === null;
}

function escalationLabel(clock: MilestoneClock, level: DealEscalationLevel): string {
  const owner = clock.owner === 'sales' ? 'sales' : 'CS';
  return level.action === 'remind-owner' ? `${clock.label} overdue: remind ${owner} owner` : `${clock.label} overdue: alert ${owner} manager`;
}

/** Everything the deal is still waiting for, soonest first (ties in milestone order); the workflow sleeps until the first. */
export function pendingDealWakeUps(milestones: readonly MilestoneClock[], levels: readonly DealEscalationLevel[]): DealWakeUp[] {
  const wakeUps: DealWakeUp[] = [];
  for (const clock of milestones.filter(isOpen)) {
    if (clock.remindAt && !clock.reminded && !clock.breached) {
      wakeUps.push({ at: clock.remindAt, label: `${clock.label} reminder (${describeDuration(remindLead(clock))} ahead)`, kind: 'reminder', milestone: clock.key });
    }
    if (!clock.breached) wakeUps.push({ at: clock.due.at, label: `${clock.label} due (${clock.rule})`, kind: 'due', milestone: clock.key });
    const level = levels[clock.nextLevel];
    if (clock.breached && clock.nextEscalation && level) {
      wakeUps.push({ at: clock.nextEscalation.at, label: escalationLabel(clock, level), kind: 'escalation', milestone: clock.key });
    }
  }
  // Stable sort: two wake-ups at one instant keep milestone order (dossier before kickoff before QBRs).
  return wakeUps.sort((a, b) => a.at.localeCompare(b.at));
}

function remindLead(clock: MilestoneClock): Duration {
  const ms = Date.parse(clock.due.at) - Date.parse(clock.remindAt!);
  const days = ms / 86_400_000;
  if (Number.isInteger(days)) return { amount: days, unit: 'days', clock: 'wall' };
  const hours = ms / 3_600_000;
  if (Number.isInteger(hours)) return { amount: hours, unit: 'hours', clock: 'wall' };
  return { amount: Math.round(ms / 1_000), unit: 'seconds', clock: 'wall' };
}

/** 'breached' while some milestone is past due and still not done; the per-milestone record keeps every late one. */
export function handoffStateOf(milestones: readonly MilestoneClock[]): DealHandoffState {
  return milestones.some((clock) => isOpen(clock) && clock.breached) ? 'breached' : 'on-track';
}

export function milestoneRecord(clock: MilestoneClock): MilestoneRecord {
  return {
    milestone: clock.key,
    kind: clock.kind,
    startedAt: clock.startedAt,
    dueAt: clock.due.at,
    doneAt: clock.doneAt,
    actor: clock.actor,
    breached: clock.breached,
    businessMinutesTaken: clock.businessMinutesTaken,
    businessMinutesLate: clock.businessMinutesLate,
  };
}

