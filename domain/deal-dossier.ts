/**
 * The handoff dossier: the context CS needs, collected once and in a structured way instead of scattered
 * over the CRM, a mailbox and the rep's head (seed 004). Seed 000 asks for business goals, scope and
 * agreed KPIs; the stakeholders let onboarding talk to each role in its own terms.
 */

export const stakeholderRoles = ['economic-buyer', 'champion', 'it-contact', 'user', 'other'] as const;
export type StakeholderRole = (typeof stakeholderRoles)[number];

export const riskSeverities = ['low', 'medium', 'high'] as const;
export type RiskSeverity = (typeof riskSeverities)[number];

export interface Kpi {
  name: string;
  /** What is measured, e.g. "median first-response time". */
  metric: string;
  target: number;
  unit?: string;
  /** ISO date or instant by which the target should be reached. */
  dueBy?: string;
}

export interface Stakeholder {
  name: string;
  role: StakeholderRole;
  email?: string;
}

export interface Risk {
  description: string;
  severity: RiskSeverity;
}

export interface Dossier {
  businessGoals: string[];
  scope: string;
  kpis: Kpi[];
  stakeholders: Stakeholder[];
  risks: Risk[];
}

/** Roles without which CS cannot run onboarding: someone who signs off value, someone who drives adoption. */
export const requiredStakeholderRoles: readonly StakeholderRole[] = ['economic-buyer', 'champion'];

/**
 * What keeps a dossier from being complete, one line per gap; empty when it is complete. The HTTP schema
 * (api/dossier-schema.ts) reports the same gaps, and the workflow re-checks them so no other client can hand over half a dossier.
 */
export function dossierGaps(dossier: Dossier): string[] {
  const gaps: string[] = [];
  if (dossier.businessGoals.filter((goal) => goal.trim().length > 0).length === 0) gaps.push('businessGoals: at least one business goal is required');
  if (dossier.scope.trim().length === 0) gaps.push('scope: the agreed scope is required');
  if (dossier.kpis.length === 0) gaps.push('kpis: at least one measurable KPI with a target is required');
  dossier.kpis.forEach((kpi, index) => {
    if (!Number.isFinite(kpi.target)) gaps.push(`kpis.${index}.target: a KPI needs a numeric target`);
  });
  for (const role of requiredStakeholderRoles) {
    if (!dossier.stakeholders.some((stakeholder) => stakeholder.role === role)) {
      gaps.push(`stakeholders: at least one ${role} is required`);
    }
  }
  return gaps;
}
