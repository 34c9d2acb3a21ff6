import type { Database } from '../db/client.js';
import { archiveWorkflow, type WorkflowArchive } from './archive.js';
import { refusedByTheDatabase } from './audit-failures.js';
import { assignDealCsOwner, type AssignCsOwnerInput, type CsOwnerAssignment } from './deal-owner.js';
import { lookupDealManagers, recordDealEvents, type DealAuditEvent, type DealManagers, type DealManagersInput } from './deal-audit.js';
import { recordLeadEvents, type LeadAuditEvent } from './lead-audit.js';
import { ApplicationFailure } from '@temporalio/common';
import type { Notification, Notifier, RefusedNotification } from './notifier.js';
import { retentionActivities } from './retention.js';
import { routeLead, type RouteLeadInput, type RouteLeadResult } from './routing.js';

export interface ActivityDependencies {
  db: Database;
  notifier: Notifier;
}

/** Every side effect a workflow may cause; workflows proxy `Activities` by type only. */
export function createActivities({ db, notifier }: ActivityDependencies) {
  return {
    /** Appends a step's audit events in order, in one transaction; each is written once however often this runs. */
    async recordLeadEvents(events: LeadAuditEvent[]): Promise<void> {
      await refusedByTheDatabase(() => recordLeadEvents(db, events));
    },
    routeLead(input: RouteLeadInput): Promise<RouteLeadResult> {
      return routeLead(db, input);
    },
    async notify(notification: Notification): Promise<void> {
      await notifier.send(notification);
    },
    /**
     * Sends a step's notifications in one activity (one billed action instead of one each). Each keeps its own
     * idempotency key, so a retry skips the ones already delivered: delivery stays at-least-once per notification.
     * Answers the ones the webhook refused for good; any other failure fails the whole batch, to be retried.
     */
    async notifyAll(batch: Notification[]): Promise<RefusedNotification[]> {
      const refused: RefusedNotification[] = [];
      let retryable: unknown = null;
      for (const notification of batch) {
        try {
          await notifier.send(notification);
        } catch (error) {
          if (error instanceof ApplicationFailure && error.nonRetryable) refused.push({ idempotencyKey: notification.idempotencyKey, reason: error.message });
          else retryable ??= error;
        }
      }
      if (retryable) throw retryable;
      return refused;
    },
    /** Appends a step's deal audit events in order with the milestones they change, in one transaction; each is written once. */
    async recordDealEvents(events: DealAuditEvent[]): Promise<void> {
      await refusedByTheDatabase(() => recordDealEvents(db, events));
    },
    /** Draws a deal's CS owner from the CS queue, once per idempotency key, recorded in deal_cs_assignments. */
    assignDealCsOwner(input: AssignCsOwnerInput): Promise<CsOwnerAssignment> {
      return assignDealCsOwner(db, input);
    },
    lookupDealManagers(input: DealManagersInput): Promise<DealManagers> {
      return lookupDealManagers(db, input);
    },
    /** Keeps the final state of a closed lead or deal, for reports that outlive Temporal's retention. */
    archiveWorkflow(archive: WorkflowArchive): Promise<void> {
      return archiveWorkflow(db, archive);
    },
    ...retentionActivities(db),
  };
}

export type Activities = ReturnType<typeof createActivities>;
