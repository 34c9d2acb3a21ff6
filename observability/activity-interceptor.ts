import type { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptors, Next } from '@temporalio/worker';
import { logger } from './logger.js';
import { activityDuration, notificationFailures } from './metrics.js';

/**
 * One log line and one histogram sample per activity attempt: type, workflow ID, attempt, duration and
 * outcome. Arguments are never logged (they hold lead e-mails and companies); a failure's message goes
 * through the logger's redaction.
 */
class ActivityObservation implements ActivityInboundCallsInterceptor {
  constructor(private readonly context: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { activityType, attempt, workflowExecution } = this.context.info;
    const fields = { component: 'activity', activityType, workflowId: workflowExecution?.workflowId, attempt };
    const started = performance.now();
    const finish = (outcome: 'completed' | 'failed' | 'cancelled') => {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      activityDuration.observe({ activity_type: activityType, outcome }, durationMs / 1000);
      return { ...fields, outcome, durationMs };
    };
    try {
      const result = await next(input);
      logger.info(finish('completed'), `${activityType} completed`);
      return result;
    } catch (error) {
      if (error instanceof CancelledFailure) {
        logger.info(finish('cancelled'), `${activityType} cancelled`);
      } else {
        if (activityType === 'notify') notificationFailures.inc();
        logger.warn({ ...finish('failed'), err: error }, `${activityType} failed (attempt ${attempt}; retried by its policy)`);
      }
      throw error;
    }
  }
}

export const observeActivities = (context: Context): ActivityInterceptors => ({ inbound: new ActivityObservation(context) });
