import { z } from '@hono/zod-openapi';
import { requiredStakeholderRoles, riskSeverities, stakeholderRoles } from '../domain/deal-dossier.js';
import { email, instant, isoDate, requiredText } from './primitives.js';

// Kept out of domain/deal-dossier.ts: the deal workflow imports that module, and zod would be loaded into every workflow's sandbox.

const isoDateOrInstant = z.union([isoDate, instant], { error: 'an ISO date (2027-03-31) or date-time with offset, in years 2000-2099' });

export const kpiSchema = z
  .object({
    name: requiredText(200),
    metric: requiredText(500),
    target: z.number({ error: 'a numeric target is required' }),
    unit: requiredText(50).optional(),
    dueBy: isoDateOrInstant.optional(),
  })
  .strict();

export const stakeholderSchema = z.object({ name: requiredText(200), role: z.enum(stakeholderRoles), email: email.optional() }).strict();

export const riskSchema = z.object({ description: requiredText(2000), severity: z.enum(riskSeverities) }).strict();

/** The roles a dossier names, read from whatever was sent: the role check must run even when the rest is malformed. */
function rolesSent(dossier: unknown): Set<unknown> {
  const stakeholders = (dossier as { stakeholders?: unknown } | null)?.stakeholders;
  if (!Array.isArray(stakeholders)) return new Set();
  return new Set(stakeholders.map((stakeholder) => (stakeholder as { role?: unknown } | null)?.role));
}

// JSON Schema `contains` per required role, so the document states what the refinement below enforces.
const requiredRolesRule = {
  allOf: requiredStakeholderRoles.map((role) => ({ contains: { type: 'object', properties: { role: { const: role } }, required: ['role'] } })),
  description: `Must name at least one stakeholder of each role: ${requiredStakeholderRoles.join(', ')}`,
} as Record<string, unknown>;

/** The dossier as sales sends it; a 400 names every gap, always including a missing economic buyer or champion. */
export const dossierSchema = requiredStakeholderRoles.reduce(
  (schema, role) =>
    schema.refine((dossier) => rolesSent(dossier).has(role), {
      path: ['stakeholders'],
      message: `at least one ${role} is required`,
      // Without `when`, zod skips a refinement once any other field has failed, and the 400 would not name the role.
      when: () => true,
    }),
  z
    .object({
      businessGoals: z.array(requiredText(1000)).min(1, 'at least one business goal is required').max(50),
      scope: requiredText(10_000),
      kpis: z.array(kpiSchema).min(1, 'at least one measurable KPI with a target is required').max(50),
      stakeholders: z.array(stakeholderSchema).min(1, 'at least one stakeholder is required').max(100).openapi(requiredRolesRule),
      risks: z.array(riskSchema).max(100),
    })
    .strict(),
);
