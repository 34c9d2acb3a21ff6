import { z } from 'zod';
import { requiredStakeholderRoles, riskSeverities, stakeholderRoles } from '../domain/deal-dossier.js';

// Kept out of domain/deal-dossier.ts: the deal workflow imports that module, and zod would be loaded into every workflow's sandbox.

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const isoDateOrInstant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'an ISO date (2027-03-31) or date-time with offset' });

export const kpiSchema = z
  .object({ name: text(200), metric: text(500), target: z.number({ error: 'a numeric target is required' }), unit: text(50).optional(), dueBy: isoDateOrInstant.optional() })
  .strict();

export const stakeholderSchema = z.object({ name: text(200), role: z.enum(stakeholderRoles), email: z.email().optional() }).strict();

export const riskSchema = z.object({ description: text(2000), severity: z.enum(riskSeverities) }).strict();

/** The dossier as sales sends it; a 400 names every gap, including a missing economic buyer or champion. */
export const dossierSchema = z
  .object({
    businessGoals: z.array(text(1000)).min(1, 'at least one business goal is required').max(50),
    scope: text(10_000),
    kpis: z.array(kpiSchema).min(1, 'at least one measurable KPI with a target is required').max(50),
    stakeholders: z.array(stakeholderSchema).min(1, 'at least one stakeholder is required').max(100),
    risks: z.array(riskSchema).max(100),
  })
  .strict()
  .superRefine((dossier, ctx) => {
    for (const role of requiredStakeholderRoles) {
      if (!dossier.stakeholders.some((stakeholder) => stakeholder.role === role)) {
        ctx.addIssue({ code: 'custom', path: ['stakeholders'], message: `at least one ${role} is required` });
      }
    }
  });
