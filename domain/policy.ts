import { z } from 'zod';
import { validateCalendar } from './business-time.js';

/**
 * The versioned policy: every rule and number a lead or deal runs under. Workflows receive a resolved
 * snapshot of it as input, so a running workflow never changes behaviour when ops publishes a new version.
 */

// A policy is stored as jsonb, which refuses a NUL character and the escape of a lone surrogate: such a string,
// or key, would pass validation and then fail to publish. (api/primitives.ts states the same rule for the API.)
const storable = z.string().regex(/^[^\u0000\uD800-\uDFFF]*$/u, 'must not contain a NUL character or an unpaired UTF-16 surrogate');

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM');

export const durationSchema = z
  .object({
    amount: z.number().nonnegative(),
    unit: z.enum(['seconds', 'minutes', 'hours', 'days']),
    clock: z.enum(['wall', 'business']).default('wall'),
  })
  .refine((d) => !(d.clock === 'business' && d.unit === 'days') || Number.isInteger(d.amount), {
    message: 'business days must be a whole number (use hours for part of a day)',
  });

const workingIntervalSchema = z.object({ start: hhmm, end: hhmm }).refine((i) => i.start < i.end, {
  message: 'start must be before end',
});

const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export const calendarSchema = z.object({
  id: storable.min(1),
  timeZone: storable.min(1),
  workingHours: z.partialRecord(z.enum(weekdays), z.array(workingIntervalSchema)),
  /** Public holidays are resolved into `holidays` when the policy is loaded, so replay never depends on a library's data. */
  publicHolidays: z.object({ country: storable.length(2), region: storable.optional() }).optional(),
  closures: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
  holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)).default([]),
});

export const contactChannels = ['phone', 'email', 'linkedin'] as const;
export const icpTiers = [1, 2, 3] as const;

export const nurtureReturnRules = ['positive-engagement', 'score-crosses-threshold'] as const;

export const escalationActions = ['remind-owner', 'alert-manager', 'reassign', 'return-to-marketing'] as const;

export const dealEscalationActions = ['remind-owner', 'alert-manager'] as const;

/**
 * The sales → CS handoff of a closed-won deal (seed 000): dossier within 48 h of the win, onboarding
 * kickoff within 5 business days of signature, first QBR after 90 days. Optional so policy versions
 * published before deals existed still parse; a deal cannot start under a policy without it.
 */
export const dealPolicySchema = z.object({
  /** The round-robin queue of CS reps (managed via /queues) a CS owner is drawn from when intake names none; its manager is the CS manager. */
  csQueueId: storable.min(1),
  /** From closedWonAt to the complete dossier reaching CS. */
  dossierDue: durationSchema,
  /** From signedAt to the onboarding kickoff, on the policy's default calendar. */
  kickoffDue: durationSchema,
  /**
   * From signedAt to the first QBR. Anchored on the signature rather than the kickoff: the contract date is
   * known from day one, so the first review is promised even while a kickoff slips.
   */
  firstQbrAfter: durationSchema,
  /** How long before a QBR falls due its CS owner is reminded; counted back on the wall clock. */
  qbrReminderBefore: durationSchema.refine((d) => d.clock === 'wall', { message: 'the reminder is counted back from the due time on the wall clock' }),
  /** false: the first QBR completes the handoff. true: QBRs repeat every qbrInterval until the deal is closed out. */
  repeatQbr: z.boolean().default(false),
  /** From a QBR held to the next one falling due (repeatQbr only). */
  qbrInterval: durationSchema,
  /**
   * Incidents after the win (seed 000: critical resolved within 24 h, significant within 72 h): each severity's
   * resolution allowance, on the wall clock or in business time as each duration says. A severity without one
   * (minor, by default) is recorded without a clock. Optional: a deal under a policy without it takes no incidents.
   */
  incidents: z
    .object({ resolveWithin: z.object({ critical: durationSchema, significant: durationSchema, minor: durationSchema.optional() }) })
    .optional(),
  escalation: z.object({
    /**
     * A missed milestone: level 1 fires `after` its due time, each later level `after` the previous one. The
     * owner is the sales owner for the dossier and the CS owner for kickoff and QBRs; the manager is the
     * sales rep's manager (reps.managerId) or the CS queue's manager.
     */
    levels: z.array(z.object({ action: z.enum(dealEscalationActions), after: durationSchema })).min(1),
  }),
});

const speedToLeadOverridesSchema = z
  .object({ tier1: durationSchema, tier2: durationSchema, tier3: durationSchema, hot: durationSchema })
  .partial();

const cadenceSchema = z.object({
  /** Due time of each attempt, measured from acceptance (SAL). */
  attempts: z.array(z.object({ channel: z.enum(contactChannels), dueAfter: durationSchema })).min(1),
  /** Time from acceptance after which an unanswered cadence returns the lead to nurture. */
  window: durationSchema,
  endingOutcomes: z.array(storable).min(1),
});

/**
 * What differs for one segment (enterprise / mid-market / SMB, seed 001): each part left out falls back to the
 * policy's own. A lead's segment is matched case-insensitively, like routing's criteria.
 */
export const segmentRulesSchema = z.object({
  mqlThreshold: z.number().optional(),
  hotThreshold: z.number().optional(),
  /** Per allowance (tier1, tier2, tier3, hot): the segment's deadline in place of the policy's. */
  speedToLead: speedToLeadOverridesSchema.optional(),
  /** The segment's whole contact cadence in place of the policy's. */
  cadence: cadenceSchema.optional(),
});

/**
 * One routing queue's own rules (seed 003: each queue has its own SLA): its speed-to-lead allowances, which win
 * over the segment's and the policy's, and the calendar of the team behind it, which drives the clocks of the
 * leads its reps own.
 */
export const queueRulesSchema = z.object({
  speedToLead: speedToLeadOverridesSchema.optional(),
  calendarId: storable.min(1).optional(),
});

const routingCriteria = z.array(storable.min(1).max(100)).min(1).optional();

export const policySchema = z
  .object({
    version: storable.min(1),
    scoring: z.object({
      mqlThreshold: z.number(),
      hotThreshold: z.number(),
      /** Points an engagement signal adds to a score component. */
      signals: z.record(
        storable,
        z.object({ behavior: z.number().optional(), intent: z.number().optional() }),
      ),
      /**
       * What brings a nurtured lead back to MQL. `positive-engagement`: any engagement that raises the score while
       * it is in the MQL band or above (a rejected lead keeps its fit, so its score usually never drops below the
       * threshold, and waiting for a crossing would keep it in nurture for good). `score-crosses-threshold`: only
       * a score that was below the threshold and comes back over it. Defaulted so older versions keep their behaviour.
       */
      nurtureReturn: z.enum(nurtureReturnRules).default('positive-engagement'),
    }),
    calendars: z.record(storable, calendarSchema),
    defaultCalendarId: storable,
    speedToLead: z.object({
      /** What stops the clock: the rep accepting the lead, or the first contact attempt after it. */
      metBy: z.enum(['acceptance', 'first-attempt']),
      tier1: durationSchema,
      tier2: durationSchema,
      tier3: durationSchema,
      hot: durationSchema.optional(),
    }),
    cadence: cadenceSchema,
    /** Segment name (lower case) → what differs for leads of that segment. */
    segments: z.record(storable.min(1).max(50), segmentRulesSchema).default({}),
    routing: z.object({
      /**
       * First matching rule picks the queue; a rule without a criterion matches any lead. Territory: countries,
       * regions, segments; product lines; specialist skills (every listed skill among the lead's needs).
       */
      rules: z.array(
        z.object({
          queueId: storable.min(1),
          tiers: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).optional(),
          segments: z.array(storable).optional(),
          countries: z.array(storable).optional(),
          regions: routingCriteria,
          products: routingCriteria,
          skills: routingCriteria,
        }),
      ),
      fallbackQueueId: storable.min(1),
    }),
    /** Queue ID → that queue's own SLA and team calendar. */
    queues: z.record(storable.min(1), queueRulesSchema).default({}),
    sla: z.object({
      /** How long before a deadline the lead counts as due soon (SlaState="due-soon"). */
      dueSoonBefore: durationSchema,
    }),
    escalation: z.object({
      /** Level n fires `after` the previous level; after a reassignment, `after` counts from the fresh deadline. */
      levels: z.array(z.object({ action: z.enum(escalationActions), after: durationSchema })).min(1),
    }),
    /**
     * Opportunity hygiene while a lead is an SQL (seed 000): every `checkEvery` (weekly) the owner is reminded when
     * the stage and value are `staleAfter` old (7 days) or the next step is missing or overdue; after
     * `remindersBeforeEscalation` reminders in a row the manager is alerted instead. Optional: a policy without it
     * runs no hygiene clock.
     */
    hygiene: z
      .object({
        checkEvery: durationSchema.refine((d) => d.amount > 0 && d.clock === 'wall', { message: 'a positive wall-clock interval' }),
        staleAfter: durationSchema.refine((d) => d.clock === 'wall', { message: 'counted on the wall clock' }),
        remindersBeforeEscalation: z.number().int().min(0).max(52),
      })
      .optional(),
    /** Seed 000: the share of records with a valid e-mail and a company name the reports hold against (0.95). */
    dataQuality: z.object({ validRecordsTarget: z.number().min(0).max(1) }).optional(),
    /** Seed 001: the share of MQLs that become SQLs the funnel is held against (0.30); the reports compare. */
    funnel: z.object({ mqlToSqlTarget: z.number().min(0).max(1) }).optional(),
    deal: dealPolicySchema.optional(),
    /**
     * Why a value is what it is, keyed by its path in this document (`speedToLead.tier3`): the reasoning travels
     * with the version it explains, where a reader of the changelog finds it.
     */
    rationale: z.record(storable.min(1).max(200), storable.min(1).max(2000)).default({}),
    /**
     * How long personal data is kept (GDPR data minimisation). Optional so earlier versions still parse; the
     * retention schedule reads the current version's value, and without one it erases nothing.
     */
    privacy: z
      .object({
        /** From a lead's close (won or lost) to the erasure of its personal data; on the wall clock. */
        closedLeadRetention: durationSchema.refine((d) => d.clock === 'wall', { message: 'retention is counted on the wall clock' }),
      })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    if (policy.scoring.hotThreshold < policy.scoring.mqlThreshold) {
      ctx.addIssue({ code: 'custom', path: ['scoring', 'hotThreshold'], message: 'must be at or above mqlThreshold' });
    }
    if (!policy.calendars[policy.defaultCalendarId]) {
      ctx.addIssue({ code: 'custom', path: ['defaultCalendarId'], message: 'names no calendar in calendars' });
    }
    for (const [name, segment] of Object.entries(policy.segments)) {
      if (name !== name.toLowerCase()) ctx.addIssue({ code: 'custom', path: ['segments', name], message: 'segment names are lower case (leads match them case-insensitively)' });
      const mql = segment.mqlThreshold ?? policy.scoring.mqlThreshold;
      const hot = segment.hotThreshold ?? policy.scoring.hotThreshold;
      if (hot < mql) ctx.addIssue({ code: 'custom', path: ['segments', name, 'hotThreshold'], message: `the segment's hot threshold (${hot}) must be at or above its MQL threshold (${mql})` });
    }
    for (const [queueId, queue] of Object.entries(policy.queues)) {
      if (queue.calendarId !== undefined && !policy.calendars[queue.calendarId]) {
        ctx.addIssue({ code: 'custom', path: ['queues', queueId, 'calendarId'], message: 'names no calendar in calendars' });
      }
    }
    for (const [key, calendar] of Object.entries(policy.calendars)) {
      if (calendar.id !== key) {
        ctx.addIssue({ code: 'custom', path: ['calendars', key, 'id'], message: `must equal its key "${key}"` });
      }
      for (const problem of validateCalendar(calendar)) {
        ctx.addIssue({ code: 'custom', path: ['calendars', key], message: problem });
      }
    }
  });

export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type IcpTier = (typeof icpTiers)[number];
export type ContactChannel = (typeof contactChannels)[number];
export type EscalationAction = (typeof escalationActions)[number];
export type Duration = z.infer<typeof durationSchema>;
export type DealPolicy = z.infer<typeof dealPolicySchema>;
export type SegmentRules = z.infer<typeof segmentRulesSchema>;
export type CadenceRules = z.infer<typeof cadenceSchema>;
export type DealEscalationLevel = DealPolicy['escalation']['levels'][number];

export class PolicyValidationError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid policy: ${issues.join('; ')}`);
    this.name = 'PolicyValidationError';
  }
}

/** Parses a policy document, reporting every problem with its path. */
export function parsePolicy(document: unknown): Policy {
  const result = policySchema.safeParse(document);
  if (!result.success) {
    throw new PolicyValidationError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}
