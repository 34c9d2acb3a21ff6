import { Context } from '@temporalio/activity';
import { and, asc, inArray, lt, sql } from 'drizzle-orm';
import { createPolicyStore } from '../db/policy-store.js';
import type { Database } from '../db/client.js';
import { workflowArchives } from '../db/schema.js';
import { durationToMs } from '../domain/business-time.js';
import { eraseLead } from '../privacy/erasure.js';

export interface LeadsPastRetention {
  leadIds: string[];
  /** Leads closed before this instant are past retention; null when the current policy keeps data indefinitely. */
  cutoff: string | null;
  policyVersion: string;
}

/** The retention schedule's side effects (workflows/retention-workflow.ts): which closed leads are due, and their erasure. */
export function retentionActivities(db: Database) {
  return {
    /** Closed (won or lost) leads whose close is older than the current policy's retention, not yet erased; oldest first. */
    async leadsPastRetention(input: { at: string; limit: number }): Promise<LeadsPastRetention> {
      const policy = await createPolicyStore(db).current();
      const retention = policy.privacy?.closedLeadRetention;
      if (!retention) return { leadIds: [], cutoff: null, policyVersion: policy.version };
      const cutoff = new Date(Date.parse(input.at) - durationToMs(retention));
      const due = await db
        .select({ leadId: workflowArchives.subjectId })
        .from(workflowArchives)
        .where(
          and(
            inArray(workflowArchives.kind, ['lead']),
            inArray(workflowArchives.outcome, ['WON', 'LOST']),
            lt(workflowArchives.closedAt, cutoff),
            sql`not exists (select 1 from erasures where erasures.subject = ${workflowArchives.workflowId})`,
          ),
        )
        .orderBy(asc(workflowArchives.closedAt))
        .limit(input.limit);
      return { leadIds: due.map((row) => row.leadId), cutoff: cutoff.toISOString(), policyVersion: policy.version };
    },
    /** Idempotent: a lead already erased answers with its first erasure. */
    async eraseLeadPastRetention(input: { leadId: string; at: string; policyVersion: string }): Promise<void> {
      await eraseLead({ db, client: Context.current().client }, input.leadId, {
        actor: 'retention-schedule',
        reason: `retention: closed longer than policy ${input.policyVersion} keeps personal data`,
        at: new Date(input.at),
      });
    },
  };
}
