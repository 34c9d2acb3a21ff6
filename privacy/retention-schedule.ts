import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { TASK_QUEUE } from '../temporal.config.js';
import { retentionSweepWorkflow } from '../workflows/retention-workflow.js';

export const RETENTION_SCHEDULE_ID = 'revops-retention';

/**
 * The durable schedule that enforces the policy's retention: once a day at 03:00 UTC it runs the retention sweep.
 * The period itself is policy (privacy.closedLeadRetention), read afresh by every run, so publishing a new policy
 * needs no change here; a day's delay at most is within what data minimisation asks. A run missed while
 * Temporal was down is caught up within a week; runs never overlap.
 */
export async function ensureRetentionSchedule(client: Client, taskQueue = TASK_QUEUE): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SCHEDULE_ID,
      spec: { calendars: [{ hour: 3, minute: 0, comment: 'daily at 03:00 UTC' }] },
      action: { type: 'startWorkflow', workflowType: retentionSweepWorkflow, workflowId: 'retention-sweep', taskQueue, args: [{}] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '7 days' },
      memo: { purpose: 'erases the personal data of leads closed longer ago than the current policy keeps it' },
    });
    return 'created';
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return 'exists';
    throw error;
  }
}
