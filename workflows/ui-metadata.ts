import { setCurrentDetails } from '@temporalio/workflow';
import type { AuditDelivery } from '../activities/index.js';
import type { Notification, RefusedNotification } from '../activities/notifier.js';
import { localFirst } from './workflow-runtime.js';
import type { DealState } from './deal-definitions.js';
import type { LeadState } from './lead-definitions.js';

/**
 * What the Temporal UI shows for a lead or a deal: the static summary and details a workflow starts with
 * (the list's Summary column, the User Metadata tab), the current details the workflow keeps up to date
 * (stage, owner, next deadline, how earlier cycles ended), and one-line summaries of its activities. Only
 * business keys, companies and rep IDs: never an e-mail or a note.
 */

interface LeadIdentity {
  leadId: string;
  company: string;
  icpTier: number;
  segment?: string;
  source?: string;
  country?: string;
}

interface DealIdentity {
  dealId: string;
  accountName: string;
  amount: number;
  currency: string;
  leadId?: string | null;
  salesOwnerId: string;
}

/** "Acme · Tier 1 · L-1001" */
export function leadSummary(lead: LeadIdentity): string {
  return `${lead.company} · Tier ${lead.icpTier} · ${lead.leadId}`;
}

export function leadStaticDetails(lead: LeadIdentity, policyVersion: string): string {
  const facts = [`**Lead ${lead.leadId}**, ${lead.company}, ICP tier ${lead.icpTier}`];
  const origin = [lead.segment && `segment ${lead.segment}`, lead.country && `country ${lead.country}`, lead.source && `source ${lead.source}`].filter(Boolean);
  if (origin.length > 0) facts.push(origin.join(', '));
  facts.push(`Started under policy ${policyVersion}`);
  return facts.join('\n\n');
}

/** "Deal D-7 · Acme · 48,000 EUR" */
export function dealSummary(deal: DealIdentity): string {
  return `Deal ${deal.dealId} · ${deal.accountName} · ${groupThousands(deal.amount)} ${deal.currency}`;
}

export function dealStaticDetails(deal: DealIdentity, policyVersion: string): string {
  return [
    `**Deal ${deal.dealId}**, ${deal.accountName}, ${groupThousands(deal.amount)} ${deal.currency}`,
    `Sold by ${deal.salesOwnerId}${deal.leadId ? ` from lead ${deal.leadId}` : ''}`,
    `Started under policy ${policyVersion}`,
  ].join('\n\n');
}

/** What the Memo tab shows, and what `temporal workflow describe` prints: the record's business keys. */
export function leadMemo(lead: LeadIdentity, policyVersion: string): Record<string, unknown> {
  return { leadId: lead.leadId, company: lead.company, icpTier: lead.icpTier, source: lead.source ?? null, policyVersion };
}

export function dealMemo(deal: DealIdentity, policyVersion: string): Record<string, unknown> {
  return { dealId: deal.dealId, accountName: deal.accountName, amount: deal.amount, currency: deal.currency, leadId: deal.leadId ?? null, policyVersion };
}

function groupThousands(amount: number): string {
  const [whole, fraction] = amount.toFixed(2).split('.') as [string, string];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === '00' ? grouped : `${grouped}.${fraction}`;
}

/** How one earlier cycle of a lead ended (one workflow run each): shown on the later runs. */
export interface CycleOutcome {
  cycle: number;
  from: string;
  reason: string;
  at: string;
  escalationLevel: number;
  attempts: number;
}

interface NextDeadline {
  label: string;
  at: string;
}

/** Current details of a lead, replaced at every change: it costs no history event. */
export function showLeadDetails(state: LeadState, next: NextDeadline | undefined): void {
  const lines = [
    `**${leadSummary({ ...state.profile, leadId: state.leadId })}**`,
    `Stage **${state.stage}** since ${minute(state.enteredStageAt)} · owner ${state.ownerId ?? 'none'}${state.queueId ? ` (queue ${state.queueId})` : ''}`,
    `SLA ${state.slaState}${state.escalationLevel > 0 ? ` · escalation level ${state.escalationLevel}` : ''}${state.paused ? ' · paused' : ''} · ${state.attempts.length} contact attempt(s)`,
    next ? `Next deadline: ${next.label}, ${minute(next.at)}` : 'No deadline pending',
  ];
  const earlier = state.pastCycles ?? [];
  if (earlier.length > 0 || state.cycle > 0) {
    lines.push(`Cycle ${state.cycle + 1}; earlier cycles:`);
    for (const past of earlier) {
      lines.push(`- cycle ${past.cycle + 1}: ${past.from} → NURTURE (${past.reason}) ${minute(past.at)}, ${past.attempts} attempt(s)${past.escalationLevel > 0 ? `, escalated to level ${past.escalationLevel}` : ''}`);
    }
  }
  if (state.dealId) lines.push(`Deal ${state.dealId}`);
  setCurrentDetails(lines.join('\n\n'));
}

export function showDealDetails(state: DealState, next: NextDeadline | undefined): void {
  const open = state.milestones.filter((milestone) => milestone.doneAt === null);
  const breached = state.milestones.filter((milestone) => milestone.breached);
  const lines = [
    `**${dealSummary(state)}**`,
    `Stage **${state.stage}** · handoff ${state.handoffState} · CS owner ${state.csOwnerId ?? 'none'} · sales ${state.salesOwnerId}`,
    next ? `Next deadline: ${next.label}, ${minute(next.at)}` : 'No deadline pending',
    `${open.length} milestone(s) open, ${breached.length} breached${breached.length > 0 ? ` (${breached.map((milestone) => milestone.label).join(', ')})` : ''}`,
  ];
  if (state.run > 1) lines.push(`Run ${state.run}: ${state.qbrs.length} QBR(s) held in earlier runs and this one`);
  setCurrentDetails(lines.join('\n\n'));
}

const phrases: Record<string, string> = {
  'manager-alert': 'alert manager',
  reminder: 'remind owner',
  assigned: 'assign',
  reassigned: 'reassign',
  'attempt-due': 'cadence reminder',
  'cs-assigned': 'assign CS owner',
  'cs-unassigned': 'no CS owner',
  'dossier-requested': 'request dossier',
  'dossier-delivered': 'deliver dossier',
  'stakeholder-brief': 'stakeholder brief',
  'qbr-scheduled': 'schedule QBR',
};

/** "alert manager → mgr-ola": the activity row of a notification in the event history. */
export function notificationSummary(notification: Notification): string {
  const kind = notification.type.slice(notification.type.indexOf('.') + 1);
  const phrase = phrases[kind] ?? kind.replace(/-/g, ' ');
  const recipients = notification.recipients.filter(Boolean);
  return `${phrase} → ${recipients.length > 0 ? recipients.join(', ') : 'nobody'}`;
}

/** "audit: accepted, contact-attempted": the audit write's row. */
export function auditSummary(events: ReadonlyArray<{ type: string }>): string {
  const types = [...new Set(events.map((event) => event.type))];
  return `audit: ${types.join(', ') || 'nothing'}`;
}

function minute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** "alert manager → mgr-ola; assigned → rep-anna": a batch of notifications sent in one activity. */
export function notificationsSummary(notifications: readonly Notification[]): string {
  return notifications.map(notificationSummary).join('; ') || 'nothing to send';
}

/**
 * The same activity, with a summary of its arguments as its row in the Web UI's history. Works for activities
 * and local activities alike; the summary is metadata, not part of the command, so it changes no replay.
 */
export function summarised<Args extends unknown[], Result>(
  activity: { executeWithOptions(options: { summary: string }, args: Args): Promise<Result> },
  summary: (...args: Args) => string,
): (...args: Args) => Promise<Result> {
  return (...args) => activity.executeWithOptions({ summary: summary(...args) }, args);
}

type NotifyOne = { executeWithOptions(options: { summary: string }, args: [Notification]): Promise<void> };
type NotifyMany = { executeWithOptions(options: { summary: string }, args: [Notification[]]): Promise<RefusedNotification[]> };

/**
 * How a workflow's step engine sends notifications, each row summarised for the UI. Since 'one-task-step' a
 * step's batch goes out in one notifyAll: as a durable activity when the step's answer waits on it, else first
 * as a local activity in the task that committed it.
 */
export function notificationSenders(oneTaskStep: boolean, activities: { notify: NotifyOne; notifyAll: NotifyMany; notifyAllLocally: NotifyMany }) {
  const durableAll = summarised(activities.notifyAll, notificationsSummary);
  const localThenDurableAll = localFirst(summarised(activities.notifyAllLocally, notificationsSummary), durableAll);
  return {
    sendNotification: summarised(activities.notify, notificationSummary),
    sendNotifications: oneTaskStep ? (batch: Notification[], answerWaits: boolean) => (answerWaits ? durableAll(batch) : localThenDurableAll(batch)) : undefined,
  };
}

type AuditAndNotify<Event> = { executeWithOptions(options: { summary: string }, args: [Event[], Notification[], number]): Promise<AuditDelivery> };

/**
 * A commit that carries its notifications (see StepEngineOptions.writeAuditAndNotify), as a local activity whose
 * row reads "audit: …; then notify …". When it cannot commit within its bounds, the durable audit activity takes
 * the events and every notification counts as undelivered, for the durable notifyAll.
 */
export function auditThenNotify<Event extends { type: string }>(
  activity: AuditAndNotify<Event>,
  durableAudit: (events: Event[]) => Promise<void>,
  deliverWithinMs: number,
): (events: Event[], notifications: Notification[]) => Promise<AuditDelivery> {
  return localFirst(
    (events: Event[], notifications: Notification[]) =>
      activity.executeWithOptions({ summary: `${auditSummary(events)}; then notify ${notificationsSummary(notifications)}` }, [events, notifications, deliverWithinMs]),
    async (events: Event[], notifications: Notification[]) => {
      await durableAudit(events);
      return { refused: [], undelivered: notifications.map((notification) => notification.idempotencyKey) };
    },
  );
}
