import type { Dossier, Kpi, Risk, Stakeholder, StakeholderRole } from './deal-dossier.js';

/**
 * Onboarding speaks to each stakeholder role in its own terms (seed 000: the CFO gets ROI, IT gets
 * integration details). From one dossier this derives one brief per role present: pure, so the workflow
 * can send the briefs and the tests can read them without a notifier.
 */

export interface BriefDeal {
  accountName: string;
  amount: number;
  currency: string;
}

export interface BriefTimeline {
  kickoffDueAt: string;
  kickoffHeldAt: string | null;
  firstQbrDueAt: string | null;
}

export interface StakeholderBrief {
  role: StakeholderRole;
  /** What this role cares about: 'ROI and KPIs', 'integration and scope', ... */
  focus: string;
  /** The stakeholders of this role the brief is for. */
  audience: Array<Pick<Stakeholder, 'name' | 'email'>>;
  /** One line for the notification summary. */
  headline: string;
  points: string[];
}

/** In the order CS usually meets them: who signs off value first, then who drives adoption, then IT. */
const roleOrder: readonly StakeholderRole[] = ['economic-buyer', 'champion', 'it-contact', 'user', 'other'];

const severityRank: Record<Risk['severity'], number> = { high: 0, medium: 1, low: 2 };

const day = (instant: string): string => instant.slice(0, 10);

function kpiLine(kpi: Kpi): string {
  const target = `${kpi.target}${kpi.unit ? ` ${kpi.unit}` : ''}`;
  return `KPI ${kpi.name}: ${kpi.metric}, target ${target}${kpi.dueBy ? ` by ${day(kpi.dueBy)}` : ''}`;
}

function riskLines(risks: readonly Risk[]): string[] {
  return [...risks].sort((a, b) => severityRank[a.severity] - severityRank[b.severity]).map((risk) => `Risk (${risk.severity}): ${risk.description}`);
}

function kickoffLine(timeline: BriefTimeline): string {
  return timeline.kickoffHeldAt ? `Onboarding kickoff held ${day(timeline.kickoffHeldAt)}` : `Onboarding kickoff due by ${day(timeline.kickoffDueAt)}`;
}

function qbrLine(timeline: BriefTimeline, what: string): string[] {
  return timeline.firstQbrDueAt ? [`${what} at the first QBR, due by ${day(timeline.firstQbrDueAt)}`] : [];
}

function briefFor(role: StakeholderRole, deal: BriefDeal, dossier: Dossier, timeline: BriefTimeline): Omit<StakeholderBrief, 'role' | 'audience'> {
  const goals = dossier.businessGoals.map((goal) => `Goal: ${goal}`);
  switch (role) {
    case 'economic-buyer':
      return {
        focus: 'ROI and KPIs',
        headline: `${deal.accountName}: the return on ${deal.amount} ${deal.currency}, measured by ${dossier.kpis.length} KPI${dossier.kpis.length === 1 ? '' : 's'}`,
        points: [`Investment: ${deal.amount} ${deal.currency}`, ...dossier.kpis.map(kpiLine), ...qbrLine(timeline, 'Results reviewed')],
      };
    case 'champion':
      return {
        focus: 'goals and timeline',
        headline: `${deal.accountName}: the goals you championed and when each step happens`,
        points: [
          ...goals,
          kickoffLine(timeline),
          ...dossier.kpis.filter((kpi) => kpi.dueBy).map((kpi) => `Target for ${kpi.name} by ${day(kpi.dueBy!)}`),
          ...qbrLine(timeline, 'Progress reviewed'),
        ],
      };
    case 'it-contact':
      return {
        focus: 'integration and scope',
        headline: `${deal.accountName}: what gets integrated and what to prepare before the kickoff`,
        points: [`Scope: ${dossier.scope}`, ...riskLines(dossier.risks), kickoffLine(timeline)],
      };
    case 'user':
      return {
        focus: 'what changes day to day',
        headline: `${deal.accountName}: what the rollout changes for your team`,
        points: [`Scope: ${dossier.scope}`, ...goals, kickoffLine(timeline)],
      };
    case 'other':
      return {
        focus: 'overview',
        headline: `${deal.accountName}: the onboarding at a glance`,
        points: [...goals, `Scope: ${dossier.scope}`, kickoffLine(timeline)],
      };
  }
}

/** One brief per stakeholder role that appears in the dossier, in roleOrder. */
export function stakeholderBriefs(deal: BriefDeal, dossier: Dossier, timeline: BriefTimeline): StakeholderBrief[] {
  return roleOrder
    .map((role) => ({ role, audience: dossier.stakeholders.filter((stakeholder) => stakeholder.role === role) }))
    .filter(({ audience }) => audience.length > 0)
    .map(({ role, audience }) => ({
      role,
      audience: audience.map(({ name, email }) => (email ? { name, email } : { name })),
      ...briefFor(role, deal, dossier, timeline),
    }));
}
