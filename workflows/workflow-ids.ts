/** Workflow IDs come from the business key, so a lead or deal can never have two workflows. */
export const leadWorkflowId = (leadId: string): string => `lead-${leadId}`;
export const dealWorkflowId = (dealId: string): string => `deal-${dealId}`;

/** Lead and deal workflows hold a person's data: their payloads are encrypted with the record's own key. */
export const isRecordWorkflowId = (workflowId: string): boolean => workflowId.startsWith('lead-') || workflowId.startsWith('deal-');
