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
  escalation: z.object({
    /**
     * A missed milestone: level 1 fires `after` its due time, each later level `after` the previous one. The
     * owner is the sales owner for the dossier and the CS owner for kickoff and QBRs; the manager is the
     * sales rep's manager (reps.managerId) or the CS queue's manager.
     */
    levels: z.array(z.object({ action: z.enum(dealEscalationActions), after: durationSchema })).min(1),
  }),
});

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
    cadence: z.object({
      /** Due time of each attempt, measured from acceptance (SAL). */
      attempts: z
        .array(z.object({ channel: z.enum(contactChannels), dueAfter: durationSchema }))
        .min(1),
      /** Time from acceptance after which an unanswered cadence returns the lead to nurture. */
      window: durationSchema,
      endingOutcomes: z.array(storable).min(1),
    }),
    routing: z.object({
      /** First matching rule picks the queue; a rule without a criterion matches any lead. */
      rules: z.array(
        z.object({
          queueId: storable.min(1),
          tiers: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).optional(),
          segments: z.array(storable).optional(),
          countries: z.array(storable).optional(),
        }),
      ),
      fallbackQueueId: storable.min(1),
    }),
    sla: z.object({
      /** How long before a deadline the lead counts as due soon (SlaState="due-soon"). */
      dueSoonBefore: durationSchema,
    }),
    escalation: z.object({
      /** Level n fires `after` the previous level; after a reassignment, `after` counts from the fresh deadline. */
      levels: z.array(z.object({ action: z.enum(escalationActions), after: durationSchema })).min(1),
    }),
    deal: dealPolicySchema.optional(),
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
