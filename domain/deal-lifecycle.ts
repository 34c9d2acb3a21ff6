/** The stages of a deal's handoff and which step may happen when. Pure, so the workflow, API and tests share them. */

export const dealStages = ['AWAITING_DOSSIER', 'AWAITING_KICKOFF', 'ONBOARDING', 'AWAITING_QBR', 'CLOSED_OUT', 'COMPLETED'] as const;
/**
 * AWAITING_DOSSIER: sales still owes CS the dossier (the kickoff may already be held).
 * AWAITING_KICKOFF: the dossier is in, the onboarding kickoff is not.
 * ONBOARDING: dossier and kickoff done, the first QBR ahead.
 * AWAITING_QBR: a QBR is held and the next one is scheduled (repeating QBRs only).
 * CLOSED_OUT: CS or ops ended the handoff (any time, with a reason). COMPLETED: the first QBR closed it.
 */
export type DealStage = (typeof dealStages)[number];

export type DealStep = 'dossier' | 'kickoff' | 'qbr' | 'close-out' | 'incident' | 'resolve-incident';

export const incidentSeverities = ['critical', 'significant', 'minor'] as const;
export type IncidentSeverity = (typeof incidentSeverities)[number];

export interface DealStageFacts {
  stage: DealStage;
  dossierDone: boolean;
  kickoffDone: boolean;
  qbrsHeld: number;
}

export function isTerminalDealStage(stage: DealStage): boolean {
  return stage === 'CLOSED_OUT' || stage === 'COMPLETED';
}

/** The stage that follows from what is done; terminal stages are set by the step that ends the deal. */
export function dealStageOf(facts: Omit<DealStageFacts, 'stage'>): DealStage {
  if (!facts.dossierDone) return 'AWAITING_DOSSIER';
  if (!facts.kickoffDone) return 'AWAITING_KICKOFF';
  return facts.qbrsHeld === 0 ? 'ONBOARDING' : 'AWAITING_QBR';
}

/**
 * Why `step` cannot happen now, or null when it can. The kickoff may come before the dossier (CS often
 * meets the customer first); a QBR needs both, since it reviews goals the dossier set. A dossier is
 * delivered once: it is the record of what sales promised, so corrections go in notes, not a rewrite.
 */
export function dealStepRefusal(step: DealStep, facts: DealStageFacts): string | null {
  // An incident opened during the handoff is resolved whenever it is, even after the handoff ended.
  if (isTerminalDealStage(facts.stage) && step !== 'resolve-incident') return `the deal's handoff is over (stage ${facts.stage})`;
  switch (step) {
    case 'dossier':
      return facts.dossierDone ? 'the dossier was already delivered; it is not amended through the handoff' : null;
    case 'kickoff':
      return facts.kickoffDone ? 'the onboarding kickoff was already recorded' : null;
    case 'qbr':
      if (!facts.dossierDone || !facts.kickoffDone) {
        return `cannot record a QBR in stage ${facts.stage}: the dossier and the onboarding kickoff come first`;
      }
      return null;
    case 'close-out':
    case 'incident':
    case 'resolve-incident':
      return null;
  }
}

type IncidentStep = Extract<DealStep, 'incident' | 'resolve-incident'>;
const incidentStepWords: Record<IncidentStep, string> = { incident: 'open an incident on it', 'resolve-incident': 'resolve its incidents' };

/** Who asks for a step: the caller's actor and role (absent for steps the system itself takes). */
export interface DealStepCaller {
  actor: string;
  role?: 'sales' | 'cs' | 'ops' | 'manager';
}

/**
 * Why `caller` may not take `step` on this deal, or null when they may: the dossier is the sales owner's to
 * deliver, the meetings and the close-out the CS owner's; ops and managers act on any deal (which routes
 * admit them is the API's rule).
 */
export function dealStepForbidden(
  step: DealStep,
  deal: { dealId: string; salesOwnerId: string; csOwnerId: string | null },
  caller: DealStepCaller,
): string | null {
  if (caller.role === 'sales' && deal.salesOwnerId !== caller.actor) {
    return `deal ${deal.dealId} is owned by sales rep ${deal.salesOwnerId}; ${caller.actor} may not ${step in incidentStepWords ? incidentStepWords[step as IncidentStep] : `deliver its ${step}`}`;
  }
  if (caller.role === 'cs' && deal.csOwnerId !== caller.actor) {
    const owner = deal.csOwnerId ? `is onboarded by ${deal.csOwnerId}` : 'has no CS owner yet';
    return `deal ${deal.dealId} ${owner}; ${caller.actor} may not ${step in incidentStepWords ? incidentStepWords[step as IncidentStep] : `record its ${step}`} (ask its CS owner or ops)`;
  }
  return null;
}
