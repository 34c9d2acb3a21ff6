import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { eq, max } from 'drizzle-orm';
import { startDealWorkflow } from '../../api/deals.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { runSimulation } from '../../api/simulation.js';
import { dealEvents, leadEvents, queueMembers, queues, reps } from '../../db/schema.js';
import { rejectionReasons } from '../../domain/lead-lifecycle.js';
import type { IcpTier, Policy, PolicyInput } from '../../domain/policy.js';
import type { ScoreComponents } from '../../domain/scoring.js';
import {
  acceptLeadUpdate,
  closeLeadUpdate,
  leadStateQuery,
  logContactAttemptUpdate,
  pauseLeadUpdate,
  qualifyLeadUpdate,
  reassignLeadUpdate,
  recordEngagementUpdate,
  rejectLeadUpdate,
  resumeLeadUpdate,
} from '../../workflows/lead-definitions.js';
import type { leadWorkflow } from '../../workflows/lead-workflow.js';
import {
  dealStateQuery,
  deliverDossierUpdate,
  openIncidentUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  resolveIncidentUpdate,
} from '../../workflows/deal-definitions.js';
import type { dealWorkflow } from '../../workflows/deal-workflow.js';
import { dealWorkflowId } from '../../temporal.config.js';
import { DAY, eventually, HOUR, MINUTE, REP_A, REP_B, scores, startLeadHarness, type LeadHarness, type StartedLead } from '../support/lead-harness.js';
import { defaultPolicyDocument } from '../support/policies.js';
import { uniqueId } from '../support/temporal.js';
import { seededRandom } from '../support/random.js';
import { completeDossier } from '../support/scenarios.js';

/**
 * Honest by construction: a seeded batch of lead lifecycles runs on real lead workflows (time-skipping server,
 * real activities, real Postgres audit) under two policy versions, with business hours, a queue with its own
 * SLA and calendar, late and missed responses, escalation ladders, rejections, exhausted cadences, pauses,
 * manual reassignments, engagement back from nurture; and closed-won deals whose dossier, kickoff, QBR and
 * incidents come on time, late, reported after their due time, or never. Then POST /policies/simulate's engine
 * replays the audit with the policies those records ran under and must reproduce every recorded outcome:
 * 0 mismatches (speed-to-lead ending per clock, escalation levels, nurture reasons, final stage, queue, owner;
 * each milestone breached or not). A tighter candidate then changes outcomes, so the comparison is not vacuous.
 */

const SEED = Number(process.env.SIMULATION_SEED ?? 20261206);
const LEADS = Number(process.env.SIMULATION_LEADS ?? 520);
const DEALS = Number(process.env.SIMULATION_DEALS ?? 40);
const CS_QUEUE = 'customer-success'; // policies/default.json deal.csQueueId
const CS_REPS = ['cs-1', 'cs-2'];
const ENTERPRISE_QUEUE = 'enterprise';
const ENTERPRISE_REPS = ['rep-e1', 'rep-e2'];
/** Steps closer together than this run together after one time skip (different leads in parallel). */
const TICK = 5 * MINUTE;

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const officeHours = (start: string, end: string) => Object.fromEntries(weekdays.map((day) => [day, [{ start, end }]]));

/** Version A: the default rules, with the enterprise queue on a New York calendar of its own. */
function versionA(version: string): PolicyInput {
  const document = defaultPolicyDocument();
  return {
    ...document,
    version,
    calendars: {
      ...document.calendars,
      'us-sales': { id: 'us-sales', timeZone: 'America/New_York', workingHours: officeHours('09:00', '17:00') },
    },
    queues: { enterprise: { speedToLead: { tier2: { amount: 2, unit: 'hours', clock: 'business' } }, calendarId: 'us-sales' } },
    // Weekly hygiene checks change nothing the simulation compares; left out, the batch skips weeks faster.
    hygiene: undefined,
  };
}

/** Version B: met by acceptance, tighter tiers, a shorter ladder and cadence, returns from nurture only on a crossing. */
function versionB(version: string): PolicyInput {
  const a = versionA(version);
  return {
    ...a,
    scoring: { ...a.scoring, nurtureReturn: 'score-crosses-threshold' },
    speedToLead: {
      metBy: 'acceptance',
      tier1: { amount: 10, unit: 'minutes', clock: 'business' },
      tier2: { amount: 1, unit: 'hours', clock: 'business' },
      tier3: { amount: 6, unit: 'hours', clock: 'wall' },
    },
    cadence: {
      attempts: [
        { channel: 'phone', dueAfter: { amount: 0, unit: 'hours', clock: 'business' } },
        { channel: 'email', dueAfter: { amount: 1, unit: 'days', clock: 'business' } },
        { channel: 'linkedin', dueAfter: { amount: 2, unit: 'days', clock: 'business' } },
      ],
      window: { amount: 3, unit: 'days', clock: 'business' },
      endingOutcomes: ['replied', 'connected'],
    },
    escalation: {
      levels: [
        { action: 'alert-manager', after: { amount: 0, unit: 'minutes', clock: 'wall' } },
        { action: 'reassign', after: { amount: 1, unit: 'hours', clock: 'business' } },
        { action: 'return-to-marketing', after: { amount: 2, unit: 'hours', clock: 'business' } },
      ],
    },
  };
}

type Fate = 'won' | 'lost' | 'late' | 'very-late' | 'reject-mql' | 'reject-sal' | 'unresponsive' | 'unresponsive-returns' | 'paused' | 'reassigned' | 'cold' | 'cold-engaged';
const FATES: Array<[Fate, number]> = [
  ['won', 12],
  ['lost', 8],
  ['late', 14],
  ['very-late', 8],
  ['reject-mql', 6],
  ['reject-sal', 8],
  ['unresponsive', 10],
  ['unresponsive-returns', 8],
  ['paused', 10],
  ['reassigned', 6],
  ['cold', 4],
  ['cold-engaged', 8],
];

interface Step {
  at: number;
  lead: number;
  what: string;
  run: () => Promise<unknown>;
}

describe('policy simulation reproduces the recorded history', () => {
  let h: LeadHarness;

  before(async () => {
    h = await startLeadHarness('simulation-history');
    const { db } = h.database;
    await db.insert(reps).values(ENTERPRISE_REPS.map((repId) => ({ repId, name: repId, seniority: 'senior' as const, managerId: 'mgr-e' })));
    await db.insert(queues).values({ queueId: ENTERPRISE_QUEUE, name: 'Enterprise', strategy: 'round-robin', managerId: 'mgr-e' });
    await db.insert(queueMembers).values(ENTERPRISE_REPS.map((repId, position) => ({ queueId: ENTERPRISE_QUEUE, repId, position })));
    await db.insert(reps).values(CS_REPS.map((repId) => ({ repId, name: repId, seniority: 'senior' as const, managerId: 'cs-mgr' })));
    await db.insert(queues).values({ queueId: CS_QUEUE, name: 'Customer success', strategy: 'round-robin', managerId: 'cs-mgr' });
    await db.insert(queueMembers).values(CS_REPS.map((repId, position) => ({ queueId: CS_QUEUE, repId, position })));
  });
  after(async () => {
    await h?.stop();
  });

  test(`seed ${SEED}: ${LEADS} lead and ${DEALS} deal lifecycles replay with 0 mismatches`, { timeout: 30 * 60_000 }, async () => {
    const rand = seededRandom(SEED);
    const between = (low: number, high: number) => low + rand() * (high - low);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const fateWeights = FATES.reduce((sum, [, weight]) => sum + weight, 0);
    const pickFate = (): Fate => {
      let roll = rand() * fateWeights;
      for (const [fate, weight] of FATES) if ((roll -= weight) < 0) return fate;
      return 'won';
    };

    const { db } = h.database;
    const store = createPolicyStore(db);
    const tag = uniqueId('sim');
    for (const [document, note] of [
      [versionA(`${tag}-a`), 'version A'],
      [versionB(`${tag}-b`), 'version B'],
    ] as const) {
      await store.publish({ document, author: 'test', note });
    }
    const policies: Policy[] = [(await store.resolve(`${tag}-a`))!, (await store.resolve(`${tag}-b`))!];

    const T0 = await h.now();
    const started = new Map<number, StartedLead>();
    const handle = (index: number) => h.env.client.workflow.getHandle<typeof leadWorkflow>(started.get(index)!.workflowId);
    let refusedByWorkflow = 0;
    /** A planned step the lead no longer allows (its ladder returned it to marketing first) is refused, as it would be live. */
    const step = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        if (!(error instanceof WorkflowUpdateFailedError)) throw error;
        refusedByWorkflow += 1;
      }
    };

    // ---- the plan: deterministic for the seed ----
    const steps: Step[] = [];
    const fates = new Map<Fate, number>();
    for (let index = 0; index < LEADS; index += 1) {
      const fate = pickFate();
      fates.set(fate, (fates.get(fate) ?? 0) + 1);
      const policy = pick(policies);
      const tier = (1 + Math.floor(rand() * 3)) as IcpTier;
      const segment = rand() < 0.25 ? 'enterprise' : pick(['mid-market', 'smb', undefined]);
      const score: ScoreComponents = fate === 'cold' || fate === 'cold-engaged' ? scores.cold : rand() < 0.2 ? scores.hot : { fit: 30, behavior: 10, intent: 10, negative: 0 };
      const rep = pick([REP_A, REP_B, ...ENTERPRISE_REPS]);
      const intakeAt = between(0, 2 * DAY);
      steps.push({
        at: intakeAt,
        lead: index,
        what: `start lead ${index} (${fate}, tier ${tier}, ${segment ?? 'no segment'}, ${policy.version})`,
        run: async () => started.set(index, await h.startLead({ policy, tier, score, profile: { segment } })),
      });
      let at = intakeAt;
      const later = (low: number, high: number) => (at += between(low, high));
      const add = (what: string, run: (lead: ReturnType<typeof handle>) => Promise<unknown>) => steps.push({ at, lead: index, what: `${what} on lead ${index}`, run: () => step(() => run(handle(index))) });
      const accept = () => add('accept', (lead) => lead.executeUpdate(acceptLeadUpdate, { args: [{ actor: rep }] }));
      const attempt = (outcome: 'no-answer' | 'connected' | 'left-voicemail') =>
        add(`attempt (${outcome})`, (lead) => lead.executeUpdate(logContactAttemptUpdate, { args: [{ actor: rep, channel: pick(['phone', 'email', 'linkedin'] as const), outcome }] }));
      const engage = (signal: string) => add(`engagement ${signal}`, (lead) => lead.executeUpdate(recordEngagementUpdate, { args: [{ actor: 'marketing-bot', signal }] }));

      if (fate === 'cold') {
        later(HOUR, DAY);
        engage('email-click');
        continue;
      }
      if (fate === 'cold-engaged') {
        later(HOUR, DAY);
        engage('demo-request');
      }
      const quick = () => later(MINUTE, 3 * HOUR);
      switch (fate) {
        case 'won':
        case 'lost':
        case 'cold-engaged':
          quick();
          accept();
          later(MINUTE, 2 * HOUR);
          attempt('connected');
          later(HOUR, DAY);
          add('qualify', (lead) => lead.executeUpdate(qualifyLeadUpdate, { args: [{ actor: rep, need: true, budget: true, timing: true }] }));
          later(HOUR, 2 * DAY);
          add('close', (lead) => lead.executeUpdate(closeLeadUpdate, { args: [{ actor: rep, outcome: fate === 'lost' ? 'lost' : 'won', reason: 'decided' }] }));
          break;
        case 'late':
          // Past the deadline, often before the ladder runs out: met late.
          later(10 * MINUTE, 10 * HOUR);
          accept();
          later(MINUTE, 20 * MINUTE);
          attempt(pick(['no-answer', 'connected'] as const));
          break;
        case 'very-late':
          later(DAY, 3 * DAY);
          accept();
          later(MINUTE, DAY);
          attempt(pick(['no-answer', 'connected'] as const));
          break;
        case 'reject-mql':
          quick();
          add('reject', (lead) => lead.executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason: pick(rejectionReasons) }] }));
          break;
        case 'reject-sal':
          quick();
          accept();
          later(MINUTE, 6 * HOUR);
          attempt('left-voicemail');
          later(HOUR, DAY);
          add('reject', (lead) => lead.executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason: pick(rejectionReasons) }] }));
          break;
        case 'unresponsive':
        case 'unresponsive-returns':
          quick();
          accept();
          for (let n = 0; n < 2; n += 1) {
            later(10 * MINUTE, DAY);
            attempt('no-answer');
          }
          if (fate === 'unresponsive-returns') {
            // After the cadence window (10 business days at most) the lead engages again and comes back to its rep.
            at = intakeAt + between(16 * DAY, 18 * DAY);
            engage('pricing-page');
            later(MINUTE, 2 * HOUR);
            accept();
            later(MINUTE, 2 * HOUR);
            attempt('connected');
          }
          break;
        case 'paused':
          quick();
          accept();
          later(MINUTE, HOUR);
          add('pause', (lead) => lead.executeUpdate(pauseLeadUpdate, { args: [{ actor: rep, reason: 'customer on holiday' }] }));
          later(HOUR, 3 * DAY);
          add('resume', (lead) => lead.executeUpdate(resumeLeadUpdate, { args: [{ actor: rep }] }));
          later(MINUTE, DAY);
          attempt(pick(['no-answer', 'connected'] as const));
          break;
        case 'reassigned':
          later(MINUTE, 2 * HOUR);
          add('reassign', (lead) => lead.executeUpdate(reassignLeadUpdate, { args: [{ actor: 'mgr-m', toRepId: rand() < 0.5 ? REP_A : REP_B, reason: 'workload' }] }));
          later(MINUTE, 4 * HOUR);
          accept();
          later(MINUTE, HOUR);
          attempt('connected');
          break;
      }
    }
    for (const [fate, count] of fates) assert.ok(count > 0 || LEADS < 100, `fate ${fate} planned`);

    // ---- deals: won in the first two days, handed over on time, late, reported late, or never ----
    const dealIds: string[] = [];
    const dealHandle = (dealId: string) => h.env.client.workflow.getHandle<typeof dealWorkflow>(dealWorkflowId(dealId));
    for (let index = 0; index < DEALS; index += 1) {
      const dealId = uniqueId('D');
      dealIds.push(dealId);
      const policy = pick(policies);
      const wonAt = between(0, 2 * DAY);
      const signedAt = wonAt - between(0, DAY);
      const lead = LEADS + index; // a lane of its own in the timeline
      const add = (at: number, what: string, run: () => Promise<unknown>) => steps.push({ at, lead, what: `${what} of ${dealId}`, run: () => step(run) });
      const iso = (offset: number) => new Date(T0 + offset).toISOString();
      steps.push({
        at: wonAt,
        lead,
        what: `start deal ${dealId}`,
        run: async () => {
          const intake = { dealId, accountName: `Account ${dealId}`, amount: 50_000, currency: 'EUR', signedAt: iso(signedAt), closedWonAt: new Date(await h.now()).toISOString(), salesOwnerId: REP_A };
          const started = await startDealWorkflow(h.env.client, { deal: intake, policy, actor: REP_A, taskQueue: h.taskQueue });
          assert.equal(started.started, true);
        },
      });
      const dossier = pick(['on-time', 'late', 'never'] as const);
      if (dossier !== 'never') {
        add(wonAt + (dossier === 'late' ? between(50 * HOUR, 80 * HOUR) : between(HOUR, 40 * HOUR)), 'dossier', () =>
          dealHandle(dealId).executeUpdate(deliverDossierUpdate, {
            args: [{ actor: REP_A, ...completeDossier }],
          }),
        );
      }
      // Five business days from the signature: about a week of wall time.
      const kickoff = pick(['on-time', 'reported-late', 'late', 'never'] as const);
      if (kickoff !== 'never') {
        const heldAt = kickoff === 'late' ? signedAt + between(9 * DAY, 11 * DAY) : Math.max(wonAt + MINUTE, signedAt + between(HOUR, 3 * DAY));
        const reportedAt = kickoff === 'reported-late' ? signedAt + between(9 * DAY, 10 * DAY) : heldAt + between(MINUTE, HOUR);
        add(reportedAt, `kickoff (${kickoff})`, () => dealHandle(dealId).executeUpdate(recordKickoffUpdate, { args: [{ actor: 'cs-1', heldAt: iso(heldAt), attendees: ['Jan'] }] }));
      }
      const qbr = pick(['on-time', 'late', 'never'] as const);
      if (qbr !== 'never') {
        const heldAt = signedAt + (qbr === 'late' ? between(91 * DAY, 93 * DAY) : between(80 * DAY, 89 * DAY));
        add(heldAt + between(MINUTE, HOUR), `QBR (${qbr})`, () => dealHandle(dealId).executeUpdate(recordQbrUpdate, { args: [{ actor: 'cs-1', heldAt: iso(heldAt), healthScore: 70 }] }));
      }
      if (rand() < 0.5) {
        const openedAt = wonAt + between(DAY, 5 * DAY);
        const incident = pick(['on-time', 'late', 'never'] as const);
        add(openedAt, 'critical incident', () => dealHandle(dealId).executeUpdate(openIncidentUpdate, { args: [{ actor: 'cs-1', severity: 'critical', summary: 'SSO down' }] }));
        if (incident !== 'never') {
          add(openedAt + (incident === 'late' ? between(25 * HOUR, 40 * HOUR) : between(HOUR, 20 * HOUR)), `incident resolved (${incident})`, () =>
            dealHandle(dealId).executeUpdate(resolveIncidentUpdate, { args: [{ actor: 'cs-1', incidentId: 'INC-1', resolution: 'fixed' }] }),
          );
        }
      }
    }

    // ---- run it: one timeline; steps within a tick run together, one lead's steps in order ----
    steps.sort((a, b) => a.at - b.at);
    const skipTo = async (offset: number) => {
      const now = await h.now();
      if (T0 + offset > now) await h.skipTime(T0 + offset - now);
    };
    for (let i = 0; i < steps.length; ) {
      let j = i;
      while (j < steps.length && steps[j]!.at - steps[i]!.at < TICK) j += 1;
      const tick = steps.slice(i, j);
      await skipTo(tick.at(-1)!.at);
      const byLead = new Map<number, Step[]>();
      for (const planned of tick) byLead.set(planned.lead, [...(byLead.get(planned.lead) ?? []), planned]);
      await Promise.all(
        [...byLead.values()].map(async (ofLead) => {
          for (const planned of ofLead) {
            try {
              await planned.run();
            } catch (error) {
              throw new Error(`seed ${SEED}: "${planned.what}" failed: ${String(error)}`);
            }
          }
        }),
      );
      i = j;
    }
    // Far enough that every ladder and cadence has run out: nothing the simulation compares is still pending.
    await skipTo(steps.at(-1)!.at + 30 * DAY);

    // ---- quiet: every lead's audit has caught up with its state ----
    for (const lead of started.values()) {
      await eventually(
        async () => {
          const state = await h.env.client.workflow.getHandle(lead.workflowId).query(leadStateQuery);
          const [row] = await db.select({ seq: max(leadEvents.seq) }).from(leadEvents).where(eq(leadEvents.leadId, lead.leadId));
          return state.lastEventSeq - (row?.seq ?? 0);
        },
        (gap) => gap === 0,
        `the audit of ${lead.leadId}`,
      );
    }
    for (const dealId of dealIds) {
      await eventually(
        async () => {
          const state = await dealHandle(dealId).query(dealStateQuery);
          const [row] = await db.select({ seq: max(dealEvents.seq) }).from(dealEvents).where(eq(dealEvents.dealId, dealId));
          return state.lastEventSeq - (row?.seq ?? 0);
        },
        (gap) => gap === 0,
        `the audit of ${dealId}`,
      );
    }
    const asOf = new Date(await h.now());
    const window = { from: new Date(T0 - HOUR), to: new Date(T0 + 3 * DAY) };

    // ---- replay with the recorded policies: every outcome reproduced ----
    const answer = await runSimulation(db, store, { version: policies[0]!.version, ...window, asOf, sample: 200 });
    const reproduction = answer.reproduction!;
    process.stdout.write(
      `# simulation-equals-history seed ${SEED}: ${reproduction.records} lifecycles replayed, ${reproduction.mismatches} mismatches; ` +
        `${refusedByWorkflow} planned steps refused live; recorded ${JSON.stringify(answer.recorded.deadlinesByTier)} ` +
        `escalations ${JSON.stringify(answer.recorded.escalationsByLevel)} nurture ${JSON.stringify(answer.recorded.nurtureByReason)}\n`,
    );
    assert.equal(answer.skipped.leads, 0, 'every lead ran under a stored version');
    assert.equal(answer.truncated.leads, false);
    assert.equal(answer.skipped.deals, 0);
    assert.equal(answer.recorded.deals, DEALS);
    assert.equal(reproduction.records, LEADS + DEALS, 'every lifecycle was replayed');
    assert.deepEqual(reproduction.first, [], `seed ${SEED}: replays that differ from the audit`);
    assert.equal(reproduction.mismatches, 0);

    // The batch covers what the comparison distinguishes, so 0 mismatches is not vacuous.
    const recorded = answer.recorded;
    const clocks = recorded.deadlinesByTier.reduce((sum, row) => ({ onTime: sum.onTime + row.metOnTime, late: sum.late + row.metLate, unmet: sum.unmet + row.breachedUnmet }), { onTime: 0, late: 0, unmet: 0 });
    assert.ok(clocks.onTime > 0 && clocks.late > 0 && clocks.unmet > 0, `met on time, late and never: ${JSON.stringify(clocks)}`);
    assert.ok(recorded.escalationsByLevel.length >= 3, `escalations at several levels: ${JSON.stringify(recorded.escalationsByLevel)}`);
    const reasons = new Set(recorded.nurtureByReason.map((row) => row.reason));
    for (const reason of ['unresponsive', 'sla-expired']) assert.ok(reasons.has(reason), `a return to nurture for ${reason}: ${[...reasons].join(', ')}`);
    assert.ok([...reasons].some((reason) => (rejectionReasons as readonly string[]).includes(reason)), 'rejections');
    assert.ok(recorded.mqlByBand.cold > 0 && recorded.mqlByBand.mql > 0 && recorded.mqlByBand.hot > 0, `every band: ${JSON.stringify(recorded.mqlByBand)}`);
    assert.deepEqual(
      recorded.loadByQueue.map((row) => row.queueId),
      ['enterprise', 'inbound'],
      'both queues',
    );
    const milestones = Object.fromEntries(recorded.dealMilestones.map((row) => [row.kind, row]));
    for (const kind of ['dossier', 'kickoff', 'qbr', 'incident-critical']) {
      const row = milestones[kind];
      assert.ok(row && row.breached > 0 && row.breached < row.milestones, `${kind}: some breached, some not: ${JSON.stringify(row)}`);
    }

    // ---- a tighter candidate changes outcomes, and says why ----
    const tighter = versionA(`${tag}-tighter`);
    tighter.speedToLead = {
      ...tighter.speedToLead,
      tier2: { amount: 10, unit: 'minutes', clock: 'business' },
      tier3: { amount: 30, unit: 'minutes', clock: 'business' },
    };
    const candidate = await runSimulation(db, store, { policy: tighter, ...window, asOf, sample: 5 });
    assert.ok(candidate.changes.count > 0, 'a tighter policy changes outcomes');
    assert.equal(candidate.changes.first.length, 5);
    assert.ok(candidate.changes.first.every((change) => change.why.length > 0));
    const breachedUnder = (side: typeof recorded) => side.deadlinesByTier.reduce((sum, row) => sum + row.metLate + row.breachedUnmet, 0);
    assert.ok(breachedUnder(candidate.simulated) > breachedUnder(candidate.recorded), 'tighter deadlines breach more often');
  });
});
