import type { BusinessCalendar } from '../business-time.js';
import {
  breachSpeedToLead,
  climbSpeedToLeadEscalation,
  moveCadenceToCalendar,
  pendingWakeUps,
  restartSpeedToLeadForNewOwner,
  shiftCadence,
  shiftSpeedToLead,
  startCadence,
  startSpeedToLead,
  type CadenceClock,
  type ClockView,
  type PauseState,
  type SpeedToLeadClock,
  type WakeUp,
} from '../lead-clocks.js';
import { engagementMove, rejectionReasons, stepRefusal, type LeadProfile, type LeadStage, type LeadStep, type NurtureReason } from '../lead-lifecycle.js';
import { cadenceFor, hasQueueRules, ownerCalendarId, scoringFor, speedToLeadAllowance } from '../lead-rules.js';
import type { Policy } from '../policy.js';
import { chooseQueue } from '../routing.js';
import { scoreBand, totalScore, type BandedScore, type ScoreComponents } from '../scoring.js';
import { leadOutcome, type LeadOutcome, type OutcomeEvent } from './lead-outcome.js';
import type { LeadRecord, RecordedEvent } from './records.js';

/**
 * One lead's recorded lifecycle replayed against a policy, in pure code: the people's steps keep the times the
 * audit recorded, and every timer (deadline, escalation, cadence, pause) is recomputed with the same domain
 * functions the lead workflow sleeps on. Run with the policies the lead actually ran under, it reproduces the
 * recorded outcome; run with a candidate, it says what that policy would have done to the same behaviour.
 *
 * What it cannot know: how people would have behaved under other deadlines (step times stay as recorded), and
 * which rep a round-robin rotation would have picked where the candidate routes to another queue.
 */

export interface ReplayOptions {
  /** The policy to replay under. In `recorded` mode, the lead's policy migrations are replayed too. */
  policy: Policy;
  /** `recorded`: the policies the lead ran under (policy migrations apply); `candidate`: one policy throughout. */
  mode: 'recorded' | 'candidate';
  /** The policy the recorded engagement scores were computed under (signal points are swapped for the candidate's). */
  recordedPolicy: Policy;
  /** The other versions a recorded lead migrated to, by version. */
  policyOf?: (version: string) => Policy | undefined;
  /** Timers due up to this instant fire; later ones have not happened yet. */
  asOf: string;
}

export interface RefusedStep {
  at: string;
  step: LeadStep;
  why: string;
}

export interface LeadReplay {
  outcome: LeadOutcome;
  /** Recorded steps the replayed lead would have refused (its stage no longer allows them). */
  refused: RefusedStep[];
}

interface Routing {
  queueId: string | null;
  repId: string | null;
  failed: string | null;
}

/** The routing results the audit holds, by occasion: routing on becoming MQL, and reassignment by escalation. */
function recordedRoutings(events: readonly RecordedEvent[]): { route: Routing[]; escalation: Routing[] } {
  const route: Routing[] = [];
  const escalation: Routing[] = [];
  for (const event of events) {
    const { payload } = event;
    if (event.type === 'routed') {
      route.push({ queueId: (payload.queueId as string | undefined) ?? null, repId: (payload.repId as string | undefined) ?? null, failed: null });
    } else if (event.type === 'routing-failed') {
      route.push({ queueId: null, repId: null, failed: String(payload.reason) });
    } else if (event.type === 'escalated' && payload.action === 'reassign') {
      escalation.push({ queueId: null, repId: (payload.to as string | undefined) ?? null, failed: typeof payload.failed === 'string' ? payload.failed : null });
    }
  }
  return { route, escalation };
}

const signalPoints = (policy: Policy, signal: unknown): number => {
  if (typeof signal !== 'string') return 0;
  const points = policy.scoring.signals[signal];
  return (points?.behavior ?? 0) + (points?.intent ?? 0);
};

/** The intake event a replay starts from: the audit's first. */
function intakeOf(record: LeadRecord): RecordedEvent & { payload: { profile: LeadProfile } } {
  const received = record.events[0];
  if (!received || received.type !== 'received') throw new Error('the audit does not start with its intake');
  if (typeof (received.payload.profile as LeadProfile | undefined)?.icpTier !== 'number') throw new Error('the intake names no ICP tier');
  return received as RecordedEvent & { payload: { profile: LeadProfile } };
}

export function replayLead(record: LeadRecord, options: ReplayOptions): LeadReplay {
  const received = intakeOf(record);
  const profile = received.payload.profile;
  const intakeScore = received.payload.score as ScoreComponents;
  const tierLabel = `Tier ${profile.icpTier}`;
  const asOf = options.asOf;
  const routings = recordedRoutings(record.events);
  const used = { route: 0, escalation: 0 };

  let policy = options.policy;
  let recordedPolicy = options.recordedPolicy;
  const calendarOf = (calendarId: string) => policy.calendars[calendarId] ?? policy.calendars[policy.defaultCalendarId]!;
  let calendarId = policy.defaultCalendarId;
  let calendar: BusinessCalendar = calendarOf(calendarId);
  let now = received.at;

  const bandOf = (total: number): BandedScore => ({
    total,
    band: scoreBand(scoringFor(policy, profile.segment), { fit: total, behavior: 0, intent: 0, negative: 0 }),
  });
  let score: BandedScore = bandOf(totalScore(intakeScore));
  let stage: LeadStage = score.band === 'cold' ? 'LEAD' : 'MQL';
  let ownerId: string | null = null;
  let ownerKnown = true;
  let queueId: string | null = null;
  let speedToLead: SpeedToLeadClock | null = null;
  let cadence: CadenceClock | null = null;
  let paused: PauseState | null = null;
  let attemptsMade = 0;

  const events: OutcomeEvent[] = [];
  const refused: RefusedStep[] = [];
  const emit = (type: string, payload: Record<string, unknown> = {}) => events.push({ type, at: now, payload });
  const nowDate = () => new Date(now);
  const ruleSubject = (queue: string | null) => ({ tier: profile.icpTier, hot: score.band === 'hot', segment: profile.segment, queueId: queue });

  // ---- the workflow's transitions, on the same domain functions ----

  function enterStage(next: LeadStage): void {
    stage = next;
    if (next !== 'MQL' && next !== 'SAL') {
      speedToLead = null;
      paused = null;
    }
    if (next !== 'SAL') cadence = null;
    // Attempt due times only time reminders, which change nothing a replay compares; the window is what returns
    // an unanswered lead to nurture. Leaving the attempts out spares five business-day sums per acceptance.
    if (next === 'SAL') cadence = startCadence({ cadence: { ...cadenceFor(policy, profile.segment), attempts: [] } }, calendar, nowDate(), false);
  }

  /** The queue a policy's routing rules pick for the lead as it is now (routing.ts, as the routing activity does). */
  const queueByRules = (rules: Policy['routing']) =>
    chooseQueue(rules.rules, rules.fallbackQueueId, {
      tier: profile.icpTier,
      hot: score.band === 'hot',
      segment: profile.segment,
      country: profile.country,
      region: profile.region,
      product: profile.product,
      skills: profile.skills,
      company: profile.company,
    });

  /**
   * The owner routing gives on this occasion. Where the policy picks the queue the recorded policy picked, the
   * recorded answer stands (the rep, or nobody available); elsewhere the queue is known and the rep is not: who a
   * rotation picks depends on the whole team's state at the time, which a replay of one lead does not have.
   */
  function route(occasion: 'route' | 'escalation', fallbackRep: string | null): Routing {
    const queue = queueByRules(policy.routing);
    const recorded = routings[occasion][used[occasion]++];
    if (recorded && queue === queueByRules(recordedPolicy.routing)) {
      return recorded.failed !== null ? recorded : { queueId: queue, repId: recorded.repId, failed: null };
    }
    return { queueId: queue, repId: fallbackRep, failed: null };
  }

  function assignOwner(assignment: Routing, previousQueueId: string | null): { queueRulesChanged: boolean } {
    ownerId = assignment.repId;
    ownerKnown = assignment.repId !== null;
    queueId = assignment.queueId;
    const nextCalendarId = ownerCalendarId(policy, queueId);
    if (nextCalendarId !== calendarId) {
      const from = calendar;
      calendar = calendarOf(nextCalendarId);
      calendarId = nextCalendarId;
      if (cadence) cadence = moveCadenceToCalendar(from, calendar, cadence, nowDate());
    }
    return { queueRulesChanged: queueId !== previousQueueId && (hasQueueRules(policy, queueId) || hasQueueRules(policy, previousQueueId)) };
  }

  function routeToOwner(returningOwnerId: string | null): void {
    const assignment = route('route', returningOwnerId);
    if (assignment.failed !== null) {
      emit('routing-failed', { reason: assignment.failed });
      return;
    }
    const startedOn = calendar.id;
    const { queueRulesChanged } = assignOwner(assignment, null);
    if (speedToLead && (queueRulesChanged || calendar.id !== startedOn)) {
      speedToLead = startSpeedToLead(calendar, new Date(speedToLead.startedAt), speedToLeadAllowance(policy, ruleSubject(queueId)));
    }
    emit('routed', { queueId, repId: ownerId });
  }

  function becomeMql(): void {
    const from = stage;
    if (from === 'NURTURE') attemptsMade = 0;
    const returningOwnerId = from === 'NURTURE' && ownerKnown ? ownerId : null;
    enterStage('MQL');
    speedToLead = startSpeedToLead(calendar, nowDate(), speedToLeadAllowance(policy, ruleSubject(null)));
    emit('stage-changed', { from, to: 'MQL' });
    routeToOwner(returningOwnerId);
  }

  function returnToNurture(reason: NurtureReason): void {
    enterStage('NURTURE');
    emit('returned-to-nurture', { reason });
  }

  function speedToLeadMet(by: 'acceptance' | 'first-attempt'): void {
    if (!speedToLead || policy.speedToLead.metBy !== by) return;
    emit('speed-to-lead-met', { breached: speedToLead.breached });
    speedToLead = null;
  }

  function resume(): void {
    const pausedAt = new Date(paused!.since);
    if (speedToLead) speedToLead = shiftSpeedToLead(calendar, speedToLead, pausedAt, nowDate());
    if (cadence) cadence = shiftCadence(calendar, cadence, pausedAt, nowDate());
    paused = null;
  }

  function escalate(): void {
    const speed = speedToLead!;
    const levelIndex = speed.nextLevel;
    const level = policy.escalation.levels[levelIndex]!;
    speedToLead = climbSpeedToLeadEscalation(calendar, speed, policy.escalation.levels, nowDate());
    switch (level.action) {
      case 'remind-owner':
      case 'alert-manager':
        emit('escalated', { level: levelIndex + 1, action: level.action });
        return;
      case 'reassign': {
        const assignment = route('escalation', null);
        if (assignment.failed !== null) {
          emit('escalated', { level: levelIndex + 1, action: level.action, failed: assignment.failed });
          return;
        }
        const { queueRulesChanged } = assignOwner(assignment, queueId);
        const allowance = queueRulesChanged ? speedToLeadAllowance(policy, ruleSubject(queueId)) : speedToLead.allowance;
        speedToLead = restartSpeedToLeadForNewOwner(calendar, speedToLead, allowance, nowDate());
        emit('escalated', { level: levelIndex + 1, action: level.action, to: ownerId });
        return;
      }
      case 'return-to-marketing':
        emit('escalated', { level: levelIndex + 1, action: level.action });
        returnToNurture('sla-expired');
        return;
    }
  }

  function onWakeUp(wake: WakeUp): void {
    switch (wake.kind) {
      case 'speed-to-lead':
        if (speedToLead) {
          speedToLead = breachSpeedToLead(calendar, speedToLead, policy.escalation.levels);
          emit('sla-breached');
        }
        return;
      case 'escalation':
        return escalate();
      case 'cadence-attempt': // never pending: the replay's cadence carries no attempt reminders
        return;
      case 'cadence-window':
        return returnToNurture('unresponsive');
      case 'pause-ends':
        return resume();
      case 'due-soon':
      case 'hygiene-check':
        return;
    }
  }

  const clockView = (): ClockView => ({ speedToLead, cadence, attemptsMade, paused, hygiene: null });

  /** Fires every timer due up to `until` (inclusive), in order, as the workflow's clocks would have. */
  function runClocksUntil(until: string): void {
    for (let guard = 0; guard < 10_000; guard += 1) {
      if (stage === 'WON' || stage === 'LOST') return;
      const next = pendingWakeUps(clockView(), policy, tierLabel, nowDate())[0];
      if (!next || next.at > until) return;
      if (next.at > now) now = next.at;
      onWakeUp(next);
    }
    throw new Error("the replay's clocks did not settle");
  }

  function refuse(step: LeadStep, why: string | null): boolean {
    if (why === null) return false;
    refused.push({ at: now, step, why });
    return true;
  }

  // ---- intake ----

  if (stage === 'MQL') speedToLead = startSpeedToLead(calendar, nowDate(), speedToLeadAllowance(policy, ruleSubject(null)));
  emit('received', { stage, score });
  if (stage === 'MQL') routeToOwner(null);

  // ---- the people's steps, at their recorded times ----

  for (const event of record.events.slice(1)) {
    const step = stepOf(event);
    if (!step) continue;
    runClocksUntil(event.at);
    if (event.at > now) now = event.at;
    if (refuse(step, stepRefusal(step, stage))) continue;
    const { payload } = event;
    switch (step) {
      case 'accept':
        enterStage('SAL');
        emit('accepted');
        speedToLeadMet('acceptance');
        break;
      case 'contact-attempt':
        if (refuse(step, paused ? 'the lead is paused' : null)) break;
        attemptsMade += 1;
        emit('contact-attempted');
        if (attemptsMade === 1) speedToLeadMet('first-attempt');
        if (cadence && cadenceFor(policy, profile.segment).endingOutcomes.includes(String(payload.outcome))) cadence = null;
        break;
      case 'qualify':
        enterStage('SQL');
        emit('qualified');
        break;
      case 'reject':
        returnToNurture(payload.reason as NurtureReason);
        break;
      case 'engagement': {
        if (typeof payload.signal === 'string' && !policy.scoring.signals[payload.signal]) {
          refuse(step, `policy ${policy.version} knows no signal "${payload.signal}"`);
          break;
        }
        // The audit keeps the score before and after; the signal's points are swapped for this policy's.
        const delta = Number(payload.to) - Number(payload.from) - signalPoints(recordedPolicy, payload.signal) + signalPoints(policy, payload.signal);
        const before = score;
        score = bandOf(before.total + delta);
        const move = engagementMove(stage, before, score, policy.scoring.nurtureReturn);
        if (move === 'become-mql') becomeMql();
        else if (move === 'return-cold') returnToNurture('cold-score');
        break;
      }
      case 'pause':
        if (refuse(step, paused ? 'the lead is already paused' : null)) break;
        paused = { since: now, until: (payload.until as string | null) ?? null, reason: String(payload.reason ?? '') };
        break;
      case 'resume':
        if (refuse(step, paused ? null : 'the lead is not paused')) break;
        resume();
        break;
      case 'reassign': {
        // The manager's choice of rep stands; the queue is theirs when the audit names it, else the routing rules'.
        const previousQueueId = queueId;
        const toQueue = typeof payload.queueId === 'string' ? payload.queueId : queueByRules(policy.routing);
        const { queueRulesChanged } = assignOwner({ queueId: toQueue, repId: (payload.to as string | undefined) ?? null, failed: null }, previousQueueId);
        if (speedToLead) {
          const allowance = queueRulesChanged ? speedToLeadAllowance(policy, ruleSubject(queueId)) : speedToLead.allowance;
          speedToLead = restartSpeedToLeadForNewOwner(calendar, speedToLead, allowance, nowDate());
        }
        emit('reassigned', { to: ownerId, ...(typeof payload.queueId === 'string' ? { queueId } : {}) });
        break;
      }
      case 'close':
        enterStage(payload.outcome === 'won' ? 'WON' : 'LOST');
        emit('closed', { to: stage });
        break;
      case 'migrate-policy': {
        // Later engagement was scored under the version migrated to; in `recorded` mode its rules take over.
        const next = options.policyOf?.(String(payload.to));
        if (!next) break;
        recordedPolicy = next;
        if (options.mode !== 'recorded') break;
        policy = next;
        calendarId = ownerCalendarId(next, queueId);
        calendar = calendarOf(calendarId);
        break;
      }
      default:
        break;
    }
  }
  runClocksUntil(asOf);

  return { outcome: leadOutcome(record.leadId, profile.icpTier, events), refused };
}

/** The person's step an audit event records, or null for what the workflow did on its own. */
function stepOf(event: RecordedEvent): LeadStep | null {
  switch (event.type) {
    case 'accepted':
      return 'accept';
    case 'contact-attempted':
      return 'contact-attempt';
    case 'qualified':
      return 'qualify';
    case 'returned-to-nurture':
      // A rejection gives a rejection reason; the system's returns (unresponsive, expired, cold score) follow from other steps.
      return (rejectionReasons as readonly string[]).includes(String(event.payload.reason)) ? 'reject' : null;
    case 'score-changed':
      return 'engagement';
    case 'paused':
      return 'pause';
    case 'resumed':
      return event.actor === 'system' ? null : 'resume';
    case 'reassigned':
      return 'reassign';
    case 'closed':
      return 'close';
    case 'policy-migrated':
      return 'migrate-policy';
    default:
      return null;
  }
}

/** The recorded outcome, read from the audit by the same function that reads the simulator's events. */
export function recordedLeadOutcome(record: LeadRecord): LeadOutcome {
  return leadOutcome(record.leadId, intakeOf(record).payload.profile.icpTier, record.events);
}
