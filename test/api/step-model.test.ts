import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { notifications } from '../../db/schema.js';
import type { Role } from '../../service.config.js';
import { leadWorkflowId } from '../../temporal.config.js';
import { secondsScalePolicy } from '../support/policies.js';
import { eventually, seedInboundQueue } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * Model-based concurrency test of the lead step engine against the real workflow (dev server, worker,
 * Postgres, API). Each run takes in one lead and sends random bursts of steps at once (by its owner, by
 * another rep, a manager's reassignment), some retried with the same Idempotency-Key in the same burst or a
 * later one, with sleeps between bursts so the seconds-scale deadlines, escalations and cadence fire in
 * between. Nothing predicts each answer (timers make that a race by design); instead every answer is checked
 * against the contract as it arrives and the run's audit, notifications and live state against the
 * invariants afterwards.
 *
 * MODEL_SEED reproduces a run (the seed is printed), MODEL_RUNS sizes it, MODEL_SHRINK=1 lets fast-check
 * shrink a failure (each shrink step replays a run against the real service, so it is off by default).
 */

const SEED = Number(process.env.MODEL_SEED ?? 20261201);
const RUNS = Number(process.env.MODEL_RUNS ?? 20);
const SHRINK = process.env.MODEL_SHRINK === '1';

const REPS = ['rep-anna', 'rep-bartek', 'rep-cara'];
const INTAKE_ACTOR = 'sales-actor';

type StepKind = 'accept' | 'attempt' | 'qualify' | 'reject' | 'engagement' | 'pause' | 'resume' | 'reassign' | 'close';
type Stage = 'LEAD' | 'MQL' | 'SAL' | 'SQL' | 'NURTURE' | 'WON' | 'LOST';

/** The contract, restated: the route, the audit event that proves a step applied, the stages it may apply in. */
const STEPS: Record<StepKind, { path: string; event: string; allowedIn: Stage[] }> = {
  accept: { path: 'accept', event: 'accepted', allowedIn: ['MQL'] },
  attempt: { path: 'contact-attempts', event: 'contact-attempted', allowedIn: ['SAL'] },
  qualify: { path: 'qualify', event: 'qualified', allowedIn: ['SAL'] },
  reject: { path: 'reject', event: 'returned-to-nurture', allowedIn: ['MQL', 'SAL'] },
  engagement: { path: 'engagement', event: 'score-changed', allowedIn: ['LEAD', 'MQL', 'SAL', 'NURTURE'] },
  pause: { path: 'pause', event: 'paused', allowedIn: ['MQL', 'SAL'] },
  resume: { path: 'resume', event: 'resumed', allowedIn: ['MQL', 'SAL'] },
  reassign: { path: 'reassign', event: 'reassigned', allowedIn: ['MQL', 'SAL', 'SQL'] },
  close: { path: 'close', event: 'closed', allowedIn: ['SQL'] },
};
/** At most this many audit events come from one step (an attempt: attempted, speed-to-lead met, flagged, cadence ended). */
const MAX_EVENTS_PER_STEP = 4;

/** Which audit event each notification answers to. */
const NOTIFIED_BY: Record<string, (event: AuditEvent) => boolean> = {
  'lead.assigned': (event) => event.type === 'routed',
  'lead.reassigned': (event) => event.type === 'reassigned' || (event.type === 'escalated' && event.payload.action === 'reassign' && !event.payload.failed),
  'speed-to-lead.reminder': (event) => event.type === 'escalated' && event.payload.action === 'remind-owner',
  'speed-to-lead.manager-alert': (event) => event.type === 'escalated' && event.payload.action === 'alert-manager',
  'cadence.attempt-due': (event) => event.type === 'cadence-reminder',
};

interface AuditEvent {
  seq: number;
  type: string;
  actor: string;
  payload: Record<string, any>;
}

// ---- what is generated -------------------------------------------------------------------------------

interface StepSpec {
  type: 'step';
  /** 'next': whichever step moves the lead on from the stage the client last saw, so runs get past MQL. */
  kind: StepKind | 'next';
  by: 'owner' | 'other';
  variant: number;
  /** Sent twice at once with the same key. */
  twice: boolean;
}
/** Re-sends an earlier request (picked by index) with its key: the same body, or a different one. */
interface ReplaySpec {
  type: 'replay';
  pick: number;
  sameBody: boolean;
}
type Spec = StepSpec | ReplaySpec;

function bodyOf(kind: StepKind, variant: number): object {
  switch (kind) {
    case 'accept':
    case 'resume':
      return {};
    case 'attempt': {
      const outcomes = ['no-answer', 'left-voicemail', 'no-answer', 'replied', 'connected', 'bounced', 'not-interested'];
      return { channel: ['phone', 'email', 'linkedin'][variant % 3], outcome: outcomes[(variant >> 2) % outcomes.length] };
    }
    case 'qualify':
      return { need: true, budget: true, timing: true };
    case 'reject':
      return { reason: ['wrong-icp', 'no-budget', 'too-early', 'wrong-contact'][variant % 4] };
    case 'engagement':
      return [{ behavior: 5 }, { signal: 'webinar' }, { intent: 10 }, { negative: 30 }, { signal: 'demo-request' }][variant % 5]!;
    case 'pause':
      // Half the pauses end on their own, so the pause-ends timer races the steps too.
      return variant % 2 === 0 ? { reason: 'rep away' } : { reason: 'prospect asked for later', until: new Date(Date.now() + 1_500).toISOString() };
    case 'reassign':
      return variant % 3 === 0 ? { reason: 'named rep', toRepId: REPS[(variant >> 2) % REPS.length] } : { reason: 'load balancing' };
    case 'close':
      return variant % 2 === 0 ? { outcome: 'lost', reason: 'went with a competitor' } : { outcome: 'won' };
  }
}

/** Another request under an earlier request's key: same actor, different fingerprint. */
function alteredOf(kind: StepKind, body: Record<string, unknown>): { kind: StepKind; body: object } {
  switch (kind) {
    case 'accept':
    case 'resume':
      return { kind: 'engagement', body: { behavior: 1 } };
    case 'engagement':
      return { kind, body: { ...body, negative: ((body.negative as number | undefined) ?? 0) + 1 } };
    case 'pause':
    case 'reassign':
    case 'close':
      return { kind, body: { ...body, reason: `${(body.reason as string | undefined) ?? 'no reason'} (edited)` } };
    default:
      return { kind, body: { ...body, notes: 'edited' } };
  }
}

// ---- what a run records ------------------------------------------------------------------------------

interface Sent {
  index: number;
  burst: number;
  kind: StepKind;
  role: Role;
  actor: string;
  key: string;
  body: object;
  /** The request whose key this one reuses. */
  of?: number;
  sameBody: boolean;
  status: number;
  answer: any;
}

interface RunLog {
  leadId: string;
  sent: Sent[];
  bursts: number;
  concurrentBursts: number;
  concurrentRetries: number;
  laterRetries: number;
  reusedKeys: number;
  /** The burst in which a close answered 200, and the stage it closed in. */
  closed: { burst: number; stage: string } | null;
  checks: number;
}

interface ClientModel {
  /** What the client last read: the owner to act as, and the stage to move on from. */
  ownerId: string | null;
  stage: Stage;
}

function nextStep(stage: Stage, variant: number): { kind: StepKind; variant: number } {
  switch (stage) {
    case 'MQL':
      return { kind: 'accept', variant };
    case 'SAL':
      return { kind: variant % 2 === 0 ? 'qualify' : 'attempt', variant };
    case 'SQL':
      return { kind: 'close', variant };
    case 'LEAD':
    case 'NURTURE':
      return { kind: 'engagement', variant: 4 }; // a demo request: back over the MQL threshold
    default:
      return { kind: 'accept', variant };
  }
}

const stats = {
  runs: 0,
  commands: 0,
  requests: 0,
  bursts: 0,
  concurrentBursts: 0,
  concurrentRetries: 0,
  laterRetries: 0,
  reusedKeys: 0,
  statuses: {} as Record<number, number>,
  timerEvents: 0,
  escalations: 0,
  closedRuns: 0,
  nurtureCycles: 0,
  checks: 0,
};

describe('step engine model: random concurrent steps, retries and timers against the real lead workflow', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(secondsScalePolicy());
    await seedInboundQueue(service, REPS);
  });
  after(async () => {
    await service?.stop();
  });

  const readLead = async (leadId: string) => {
    const response = await service.request('GET', `/leads/${leadId}`, { role: 'ops' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };

  async function send(log: RunLog, request: Omit<Sent, 'status' | 'answer'>): Promise<Sent> {
    const response = await service.request('POST', `/leads/${log.leadId}/${STEPS[request.kind].path}`, {
      role: request.role,
      as: request.actor,
      body: request.body,
      headers: { 'Idempotency-Key': request.key },
    });
    const sent = { ...request, status: response.status, answer: response.body };
    log.sent.push(sent);
    stats.requests += 1;
    stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
    return sent;
  }

  const what = (sent: Sent) =>
    `${sent.kind} #${sent.index} by ${sent.actor} (key ${sent.key}${sent.of === undefined ? '' : `, reusing #${sent.of} ${sent.sameBody ? 'same' : 'different'} body`}) → ${sent.status} ${JSON.stringify(sent.answer?.error ? sent.answer : { stage: sent.answer?.stage, request: sent.answer?.request })}`;

  /** What every single answer must be, whatever the race. */
  function checkAnswer(log: RunLog, sent: Sent, workflowDone: boolean): void {
    const first = sent.of === undefined ? undefined : log.sent.find((candidate) => candidate.index === sent.of);
    log.checks += 1;
    assert.ok([200, 403, 409, 422].includes(sent.status), `only 200/403/409/422 are answers to a well-formed step: ${what(sent)}`);
    if (sent.status === 200) assert.equal(sent.answer.request?.key, `${sent.actor}:${sent.key}`, `a 200 names the request it applied: ${what(sent)}`);
    if (sent.status === 403) assert.equal(sent.answer.error, 'forbidden', what(sent));
    if (sent.status === 422) assert.equal(sent.answer.error, 'idempotency-key-reused', `only a reused key is unprocessable here: ${what(sent)}`);
    if (first && first.burst < sent.burst && first.status === 200) {
      // A retry after the first answer: the first answer again, or 422 for another body under the same key.
      if (sent.sameBody) {
        assert.equal(sent.status, 200, `a retry with the same key and body answers as the first did (#${first.index} answered 200): ${what(sent)}`);
        assert.equal(sent.answer.request.seq, first.answer.request.seq, `the retry reports the first application: ${what(sent)}`);
      } else {
        assert.equal(sent.status, 422, `another body under an applied key is refused as a reused key: ${what(sent)}`);
      }
    }
    if (log.closed && log.closed.burst < sent.burst && sent.of === undefined) {
      assert.equal(sent.status, 409, `a step on a closed lead is refused: ${what(sent)}`);
      assert.match(sent.answer.message, new RegExp(log.closed.stage), `the refusal names the final stage: ${what(sent)}`);
      if (workflowDone) assert.equal(sent.answer.error, 'closed', `a finished lead answers "closed": ${what(sent)}`);
    }
    if (sent.kind === 'close' && sent.status === 200 && !log.closed) log.closed = { burst: sent.burst, stage: sent.answer.stage };
  }

  class Burst implements fc.AsyncCommand<ClientModel, RunLog> {
    constructor(readonly specs: Spec[]) {}
    check = () => true;
    async run(model: ClientModel, log: RunLog): Promise<void> {
      const burst = ++log.bursts;
      stats.bursts += 1;
      const workflowDone = log.closed !== null && (await service.temporal.client.workflow.getHandle(leadWorkflowId(log.leadId)).describe()).status.name !== 'RUNNING';
      const other = (owner: string | null, variant: number) => REPS.filter((rep) => rep !== owner)[variant % (REPS.length - 1)]!;
      const requests: Array<Omit<Sent, 'status' | 'answer'>> = [];
      let index = log.sent.length + 1_000 * burst; // unique within the run, and tells the burst at a glance
      for (const spec of this.specs) {
        if (spec.type === 'replay') {
          const earlier = log.sent.filter((candidate) => candidate.of === undefined && candidate.burst < burst);
          const original = earlier[spec.pick % Math.max(1, earlier.length)];
          if (!original) continue;
          const again = spec.sameBody ? { kind: original.kind, body: original.body } : alteredOf(original.kind, original.body as Record<string, unknown>);
          // A reused key only means something for the same caller: keys are scoped by actor.
          if (again.kind === 'engagement' && original.role !== 'sales') continue;
          requests.push({ ...original, ...again, index: index++, burst, of: original.index, sameBody: spec.sameBody });
          if (spec.sameBody) log.laterRetries += 1;
          else log.reusedKeys += 1;
          continue;
        }
        const { kind, variant } = spec.kind === 'next' ? nextStep(model.stage, spec.variant) : { kind: spec.kind, variant: spec.variant };
        const manager = variant % 2 === 0;
        const [role, actor]: [Role, string] =
          kind === 'reassign'
            ? manager
              ? ['manager', 'mgr-ola']
              : ['ops', 'ops-olga']
            : ['sales', spec.by === 'owner' && model.ownerId ? model.ownerId : other(model.ownerId, variant)];
        const request = { index: index++, burst, kind, role, actor, key: uniqueId('k'), body: bodyOf(kind, variant), sameBody: true };
        requests.push(request);
        if (spec.twice) {
          requests.push({ ...request, index: index++, of: request.index });
          log.concurrentRetries += 1;
        }
      }
      if (requests.length > 1) {
        log.concurrentBursts += 1;
        stats.concurrentBursts += 1;
      }
      const answers = await Promise.all(requests.map((request) => send(log, request)));
      for (const sent of answers) checkAnswer(log, sent, workflowDone);
      // Notifications first, then the audit: a notification sent before its event committed would show up here without it.
      const early = await service.database.db.select().from(notifications).where(eq(notifications.subjectId, leadWorkflowId(log.leadId)));
      const audit: AuditEvent[] = (await service.request('GET', `/leads/${log.leadId}/timeline`, { role: 'ops' })).body.events ?? [];
      for (const sent of answers.filter((candidate) => candidate.status === 200)) {
        log.checks += 1;
        assert.ok(audit.some((event) => event.seq === sent.answer.request.seq), `a step answers after its audit rows are committed: ${what(sent)}`);
      }
      for (const [type, answersTo] of Object.entries(NOTIFIED_BY)) {
        log.checks += 1;
        const sentOfType = early.filter((note) => note.type === type).length;
        assert.ok(sentOfType <= audit.filter(answersTo).length, `${sentOfType} ${type} notifications were out before their audit events: ${audit.map((event) => `${event.seq}:${event.type}`).join(' ')}`);
      }
      // Same key, same body, same burst: whichever reached the workflow first, the key applied once.
      for (const sent of answers.filter((candidate) => candidate.of !== undefined && candidate.status === 200)) {
        const first = log.sent.find((candidate) => candidate.index === sent.of)!;
        if (first.status === 200) assert.equal(sent.answer.request.seq, first.answer.request.seq, `one key, one application: ${what(first)} / ${what(sent)}`);
      }
      Object.assign(model, clientView(await readLead(log.leadId)));
    }
    toString = () =>
      `burst[${this.specs
        .map((spec) => (spec.type === 'replay' ? `replay(${spec.pick},${spec.sameBody ? 'same' : 'other'})` : `${spec.kind}:${spec.by}:${spec.variant}${spec.twice ? ':x2' : ''}`))
        .join(' ')}]`;
  }

  class Pause implements fc.AsyncCommand<ClientModel, RunLog> {
    constructor(readonly ms: number) {}
    check = () => true;
    async run(model: ClientModel, log: RunLog): Promise<void> {
      await sleep(this.ms);
      Object.assign(model, clientView(await readLead(log.leadId)));
    }
    toString = () => `sleep(${this.ms})`;
  }

  const stepSpec: fc.Arbitrary<Spec> = fc.record({
    type: fc.constant('step' as const),
    kind: fc.oneof(
      { arbitrary: fc.constant('next' as const), weight: 6 },
      { arbitrary: fc.constantFrom<StepKind>('accept', 'attempt', 'qualify', 'close'), weight: 2 },
      { arbitrary: fc.constantFrom<StepKind>('reject', 'engagement', 'pause', 'resume', 'reassign'), weight: 3 },
    ),
    by: fc.oneof({ arbitrary: fc.constant('owner' as const), weight: 3 }, { arbitrary: fc.constant('other' as const), weight: 1 }),
    variant: fc.nat(63),
    twice: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
  const replaySpec: fc.Arbitrary<Spec> = fc.record({ type: fc.constant('replay' as const), pick: fc.nat(99), sameBody: fc.boolean() });
  const burst = fc
    .array(fc.oneof({ arbitrary: stepSpec, weight: 4 }, { arbitrary: replaySpec, weight: 1 }), { minLength: 1, maxLength: 4 })
    .map((specs) => new Burst(specs));
  // Tier 1 is due in 3 s and its ladder runs within 2 s more; the cadence reminds every 2 s: sleeps let them fire between bursts.
  const pause = fc.constantFrom(300, 1_000, 2_500, 4_000).map((ms) => new Pause(ms));
  const lead = fc.record({ icpTier: fc.constantFrom(1 as const, 2 as const, 3 as const), hot: fc.boolean() });

  // ---- the invariants --------------------------------------------------------------------------------

  /** The run's audit, notifications and live state at one instant: the audit and the outbox caught up with what the workflow counted. */
  async function settledRecord(leadId: string) {
    return eventually(
      async () => {
        const first = await readLead(leadId);
        const timeline = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });
        const sent = await service.database.db.select().from(notifications).where(eq(notifications.subjectId, leadWorkflowId(leadId)));
        const state = await readLead(leadId);
        const events: AuditEvent[] = timeline.status === 200 ? timeline.body.events : [];
        const caughtUp =
          first.lastEventSeq === state.lastEventSeq &&
          first.notificationsSent === state.notificationsSent &&
          events.length >= state.lastEventSeq &&
          sent.length >= state.notificationsSent;
        return { caughtUp, state, events, sent };
      },
      (read) => read.caughtUp,
      `the audit and notifications of ${leadId} to catch up with its workflow`,
      30_000,
    );
  }

  async function checkInvariants(log: RunLog): Promise<void> {
    const { state, events, sent: notes } = await settledRecord(log.leadId);
    const check = (ok: unknown, message: string) => {
      log.checks += 1;
      assert.ok(ok, `${log.leadId}: ${message}`);
    };
    const dump = () => events.map((event) => `${event.seq}:${event.type}:${event.actor}`).join(' ');

    // (a) audit equals history: seqs 1..n, n the workflow's count.
    check(
      events.every((event, i) => event.seq === i + 1),
      `audit seqs are 1..n without gaps or repeats: ${dump()}`,
    );
    check(events.length === state.lastEventSeq, `the audit holds ${events.length} events, the workflow counted ${state.lastEventSeq}`);

    // (c) intake first.
    check(events[0]?.type === 'received' && events[1]?.type === 'routed', `the first events are received, routed: ${dump()}`);

    // (f) and (a): one application per key; every applied step appears once, with its caller, and nothing else by a person does.
    const appliedByKey = new Map<string, Sent[]>();
    for (const sent of log.sent.filter((candidate) => candidate.status === 200)) {
      const key = sent.answer.request.key as string;
      appliedByKey.set(key, [...(appliedByKey.get(key) ?? []), sent]);
    }
    const steps: Array<{ sent: Sent; from: number; to: number }> = [];
    for (const [key, answers] of appliedByKey) {
      check(new Set(answers.map((answer) => answer.answer.request.seq)).size === 1, `key ${key} applied once: ${answers.map(what).join(' / ')}`);
      check(new Set(answers.map((answer) => answer.answer.request.fingerprint)).size === 1, `key ${key} answered one request: ${answers.map(what).join(' / ')}`);
      const sent = answers[0]!;
      const to = sent.answer.request.seq as number;
      const primary = events.filter((event) => event.seq <= to && event.type === STEPS[sent.kind].event && event.actor === sent.actor).at(-1);
      check(primary && to - primary.seq < MAX_EVENTS_PER_STEP, `${what(sent)}: its ${STEPS[sent.kind].event} by ${sent.actor} ends at seq ${to}: ${dump()}`);
      steps.push({ sent, from: primary!.seq, to });
    }
    steps.sort((a, b) => a.from - b.from);
    for (const [i, step] of steps.entries()) {
      const previous = steps[i - 1];
      check(!previous || previous.to < step.from, `steps do not share audit events: ${previous && what(previous.sent)} and ${what(step.sent)}: ${dump()}`);
      const own = events.slice(step.from - 1, step.to);
      check(
        own.every((event) => event.actor === step.sent.actor || event.actor === 'system'),
        `${what(step.sent)} wrote only its own and system events: ${own.map((event) => `${event.seq}:${event.type}:${event.actor}`).join(' ')}`,
      );
    }
    const attributed = (seq: number) => steps.some((step) => step.from <= seq && seq <= step.to);
    const byPeople = events.filter((event) => event.actor !== 'system' && !(event.seq === 1 && event.actor === INTAKE_ACTOR));
    check(
      byPeople.every((event) => attributed(event.seq)),
      `every event by a person belongs to a step that answered 200 (a refused step left none): unattributed ${JSON.stringify(byPeople.filter((event) => !attributed(event.seq)).map((event) => `${event.seq}:${event.type}:${event.actor}`))}`,
    );

    // (b), (d) and the turn rules: replay stage, pause and owner through the audit.
    let stage: Stage = 'LEAD';
    let paused = false;
    let owner: string | null = null;
    let closedAt: number | null = null;
    const stepAt = new Map(steps.map((step) => [step.from, step.sent]));
    for (const event of events) {
      check(closedAt === null, `nothing follows closed (seq ${closedAt}): ${event.seq}:${event.type}`);
      const step = stepAt.get(event.seq);
      if (step) {
        check(STEPS[step.kind].allowedIn.includes(stage), `${what(step)} applied in stage ${stage}, outside ${STEPS[step.kind].allowedIn.join('/')}`);
        if (step.role === 'sales') check(owner === step.actor, `${what(step)} was taken while ${owner} owned the lead`);
        if (step.kind === 'attempt') check(!paused, `${what(step)} was logged on a paused lead`);
      }
      if (['sla-breached', 'escalated', 'cadence-reminder'].includes(event.type)) {
        check(stage === 'MQL' || stage === 'SAL', `timer event ${event.seq}:${event.type} fired in stage ${stage}`);
        check(!paused, `timer event ${event.seq}:${event.type} fired while the lead was paused`);
        stats.timerEvents += 1;
        if (event.type === 'escalated') stats.escalations += 1;
      }
      if (event.type === 'reassigned' || (event.type === 'escalated' && event.payload.action === 'reassign' && !event.payload.failed)) {
        check(event.payload.from === owner, `${event.seq}:${event.type} moved the lead from ${event.payload.from}, but ${owner} owned it`);
        owner = event.payload.to;
      }
      if (event.type === 'routed') owner = event.payload.repId;
      switch (event.type) {
        case 'received':
          stage = event.payload.stage;
          break;
        case 'accepted':
          stage = 'SAL';
          break;
        case 'qualified':
          stage = 'SQL';
          paused = false; // leaving MQL/SAL ends a pause: there is no clock left to hold
          break;
        case 'stage-changed':
          stage = event.payload.to;
          if (stage !== 'MQL' && stage !== 'SAL') paused = false;
          break;
        case 'returned-to-nurture':
          stage = 'NURTURE';
          paused = false;
          break;
        case 'paused':
          paused = true;
          break;
        case 'resumed':
          paused = false;
          break;
        case 'closed':
          stage = event.payload.to;
          paused = false;
          closedAt = event.seq;
          break;
      }
    }
    check(stage === state.stage, `replaying the audit gives stage ${stage}; the workflow reports ${state.stage}`);
    check(owner === state.ownerId, `replaying routed/reassigned/escalated gives owner ${owner}; the workflow reports ${state.ownerId}`);
    check(paused === (state.paused !== null), `replaying pause/resume gives paused=${paused}; the workflow reports ${JSON.stringify(state.paused)}: ${dump()}`);

    // (e) every notification answers to one audit event, in order, and to the same people.
    const ordered = [...notes].sort((a, b) => numberOf(a.idempotencyKey) - numberOf(b.idempotencyKey));
    check(ordered.length === state.notificationsSent, `${ordered.length} notifications recorded, the workflow sent ${state.notificationsSent}`);
    check(
      ordered.every((note) => note.type in NOTIFIED_BY),
      `only known lead notifications: ${ordered.map((note) => note.type).join(', ')}`,
    );
    check(!events.some((event) => event.type === 'notification-failed' || event.type === 'audit-write-failed' || event.type === 'step-not-recorded'), `no failure was recorded: ${dump()}`);
    for (const [type, answersTo] of Object.entries(NOTIFIED_BY)) {
      const sentOfType = ordered.filter((note) => note.type === type);
      const causes = events.filter(answersTo);
      check(sentOfType.length === causes.length, `${sentOfType.length} ${type} notifications for ${causes.length} matching audit events: ${dump()}`);
      for (const [i, note] of sentOfType.entries()) {
        const cause = causes[i]!;
        const expected = type === 'lead.assigned' ? cause.payload.repId : type === 'lead.reassigned' ? cause.payload.to : null;
        if (expected) check(note.recipients[0] === expected, `${type} #${i + 1} went to ${note.recipients.join(',')}, the audit names ${expected}`);
      }
    }

    stats.nurtureCycles += state.cycle ?? 0;
    if (log.closed) stats.closedRuns += 1;
  }

  test(`fixed seed ${SEED}, ${RUNS} runs: every invariant holds after every run`, { timeout: 15 * 60_000 }, async () => {
    console.log(`MODEL SEED ${SEED} (MODEL_SEED=${SEED} MODEL_RUNS=${RUNS} npm run test:only -- step-model reproduces it)`);
    const started = Date.now();
    await fc.assert(
      // Every run opens with a burst sent right after intake; then two bursts to one sleep.
      fc.asyncProperty(lead, burst, fc.commands([burst, burst, pause], { size: 'medium', maxCommands: 8 }), async ({ icpTier, hot }, opening, rest) => {
        const commands = [opening, ...rest];
        const leadId = uniqueId('L');
        const log: RunLog = { leadId, sent: [], bursts: 0, concurrentBursts: 0, concurrentRetries: 0, laterRetries: 0, reusedKeys: 0, closed: null, checks: 0 };
        const intake = await service.request('POST', '/leads', {
          body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Model ${leadId}`, icpTier, score: hot ? { fit: 40, behavior: 20, intent: 15 } : { fit: 30, behavior: 10, intent: 5 } },
        });
        assert.equal(intake.status, 201, JSON.stringify(intake.body));
        // No wait for routing: the first burst races the workflow's own first step.
        try {
          await fc.asyncModelRun(() => ({ model: { ownerId: null, stage: 'MQL' as Stage }, real: log }), commands);
        } finally {
          console.log(`model run ${stats.runs + 1}: ${leadId} tier ${icpTier}${hot ? ' hot' : ''}, ${commands.join(' ')} → ${log.sent.map(brief).join(' ')}`);
        }
        await checkInvariants(log);
        stats.runs += 1;
        stats.commands += commands.length;
        stats.concurrentRetries += log.concurrentRetries;
        stats.laterRetries += log.laterRetries;
        stats.reusedKeys += log.reusedKeys;
        stats.checks += log.checks;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: !SHRINK, verbose: 1 },
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(
      `MODEL SUMMARY seed ${SEED}: ${stats.runs} runs, ${stats.commands} commands (${stats.bursts} bursts, ${stats.concurrentBursts} concurrent), ` +
        `${stats.requests} requests (${Object.entries(stats.statuses).map(([status, count]) => `${count}×${status}`).join(', ')}), ` +
        `retries ${stats.concurrentRetries} concurrent + ${stats.laterRetries} later with the same key, ${stats.reusedKeys} keys reused for another body; ` +
        `${stats.timerEvents} timer events (${stats.escalations} escalations), ${stats.closedRuns} closed, ${stats.nurtureCycles} nurture cycles; ` +
        `6 invariants × ${stats.runs} runs, ${stats.checks} checks, all held; ${seconds} s`,
    );
  });
});

/** One request in a run's log line: step@actor, ↺n for a retry of request n (≠ with another body), and the answer. */
function brief(sent: Sent): string {
  const retry = sent.of === undefined ? '' : `${sent.sameBody ? '↺' : '≠'}${sent.of}`;
  return `#${sent.index}${retry} ${sent.kind}@${sent.actor}:${sent.status}`;
}

function clientView(lead: { ownerId: string | null; stage: Stage }): ClientModel {
  return { ownerId: lead.ownerId, stage: lead.stage };
}

function numberOf(idempotencyKey: string): number {
  return Number(/:notification-(\d+)-/.exec(idempotencyKey)?.[1] ?? Number.NaN);
}
