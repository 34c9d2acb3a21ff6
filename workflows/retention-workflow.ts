import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

// Erasure terminates nothing here (the leads are closed) and is idempotent: retried until the database answers.
const { leadsPastRetention, eraseLeadPastRetention } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const BATCH = 200;

export interface RetentionSweepResult {
  erased: number;
  cutoff: string | null;
  policyVersion: string | null;
}

/**
 * One run of the retention schedule: erases the personal data of every lead closed longer ago than the current
 * policy keeps it, in batches, as of the time the run started. Safe to run twice or concurrently: erasure is
 * idempotent and an erased lead is never selected again.
 */
export async function retentionSweepWorkflow(input: { at?: string; erasedSoFar?: number } = {}): Promise<RetentionSweepResult> {
  // The sandbox makes Date the task's time: the run's instant, the same on replay.
  const at = input.at ?? new Date().toISOString();
  let erased = input.erasedSoFar ?? 0;
  for (;;) {
    const due = await leadsPastRetention({ at, limit: BATCH });
    for (const leadId of due.leadIds) await eraseLeadPastRetention({ leadId, at, policyVersion: due.policyVersion });
    erased += due.leadIds.length;
    if (due.leadIds.length < BATCH) return { erased, cutoff: due.cutoff, policyVersion: due.policyVersion };
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof retentionSweepWorkflow>({ at, erasedSoFar: erased });
  }
}
