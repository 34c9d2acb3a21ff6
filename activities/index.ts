import type { Database } from '../db/client.js';
import { archiveWorkflow, type WorkflowArchive } from './archive.js';
import { refusedByTheDatabase } from './audit-failures.js';
import { assignDealCsOwner, type AssignCsOwnerInput, type CsOwnerAssignment } from './deal-owner.js';
import { lookupDealManagers, recordDealEvents, type DealAuditEvent, type DealManagers, type DealManagersInput } from './deal-audit.js';
import { recordLeadEvents, type LeadAuditEvent } from './lead-audit.js';
import { deliverBatch, type Notification, type Notifier, type RefusedNotification } from './notifier.js';
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
      const { refused, undelivered } = await deliverBatch(notifier, batch);
      if (undelivered.length > 0) throw undelivered[0]!.error;
      return refused;
    },
    /**
     * A commit no one waits on (intake, a wake-up) with the notifications it causes, in one local activity instead
     * of two: the audit and the notifications' records in one statement, and only once that is committed their
     * delivery, for at most `deliverWithinMs`. Answers those refused for good and those not delivered in time,
     * which the workflow hands to notifyAll.
     */
    async recordLeadEventsAndNotify(events: LeadAuditEvent[], batch: Notification[], deliverWithinMs: number): Promise<AuditDelivery> {
      const { recorded } = await refusedByTheDatabase(() => recordLeadEvents(db, events, batch.length > 0 ? notifier.recordBatch(batch) : undefined));
      return auditDelivery(await deliverBatch(notifier, batch, { within: deliverWithinMs, recorded: new Set(recorded ?? []) }));
    },
    /** Appends a step's deal audit events in order with the milestones they change, in one transaction; each is written once. */
    async recordDealEvents(events: DealAuditEvent[]): Promise<void> {
      await refusedByTheDatabase(() => recordDealEvents(db, events));
    },
    /** recordLeadEventsAndNotify for a deal's events and milestones. */
    async recordDealEventsAndNotify(events: DealAuditEvent[], batch: Notification[], deliverWithinMs: number): Promise<AuditDelivery> {
      const { recorded } = await refusedByTheDatabase(() => recordDealEvents(db, events, batch.length > 0 ? notifier.recordBatch(batch) : undefined));
      return auditDelivery(await deliverBatch(notifier, batch, { within: deliverWithinMs, recorded: new Set(recorded ?? []) }));
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

/** What an audit commit that carried notifications answers: the ones refused for good, the keys of those not delivered yet. */
export interface AuditDelivery {
  refused: RefusedNotification[];
  undelivered: string[];
}

function auditDelivery({ refused, undelivered }: Awaited<ReturnType<typeof deliverBatch>>): AuditDelivery {
  return { refused, undelivered: undelivered.map((entry) => entry.idempotencyKey) };
}
