/** Workflow IDs come from the business key, so a lead or deal can never have two workflows. */
export const leadWorkflowId = (leadId: string): string => `lead-${leadId}`;
export const dealWorkflowId = (dealId: string): string => `deal-${dealId}`;
