import proto from '@temporalio/proto';

const { temporal } = proto;

/**
 * Counts Temporal Cloud billable Actions from real Event Histories. Pure: no I/O, no clock.
 *
 * The rules follow Temporal Cloud's published Action definitions ("Temporal Cloud Actions",
 * https://docs.temporal.io/cloud/actions, source docs/evaluate/temporal-cloud/actions.mdx in
 * temporalio/documentation, as read for this benchmark):
 *
 * - Workflow started: client start, Continue-As-New, Child Workflow start. One per run.
 * - Timer started: every TimerStarted (including implicit timers, e.g. `condition` with a timeout in TypeScript).
 * - Search Attribute upsert requested: one per UpsertSearchAttributes command however many attributes it
 *   sets; attributes given at start are free, and an upsert of `TemporalChangeVersion` alone is exempt.
 * - Signal sent: one per Signal (counted here where it is received: WorkflowExecutionSignaled).
 * - Update received by Worker: one per successful and per rejected Update; de-duplicated Update IDs do not count.
 *   Rejected Updates never reach history, so a history can only show the accepted ones.
 * - Start Child Workflow: two Actions (the start and the attempted execution).
 * - Activity started or retried: one per attempt, so retries count.
 * - Local Activities: all RecordMarker commands of one Workflow Task together count as one Action.
 * - Nexus Operation scheduled / canceled: one each on the caller. Workflow Execution Options updated: one each.
 *
 * Not visible in a history, so not counted by countActions (the docs' own history-based estimate leaves them
 * out too): Queries, Activity Heartbeats, rejected Updates, Schedules, Export, and Workflow Task heartbeats of
 * long Local Activities. Queries and rejected Updates the API caused are counted from its calls instead
 * (countOutsideHistory, billedActions).
 */

const EventType = temporal.api.enums.v1.EventType;
const Initiator = temporal.api.enums.v1.ContinueAsNewInitiator;

type History = proto.temporal.api.history.v1.IHistory;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** The search attribute the SDKs' versioning API writes; the docs exempt it from Action counts. */
const CHANGE_VERSION_ATTRIBUTE = 'TemporalChangeVersion';

export interface ActionsByKind {
  /** Runs started by a client (or by a workflow retry / cron schedule): one Action each. */
  workflowStarted: number;
  /** Runs started by Continue-As-New: one Action each, counted once whether seen from the old run or the new. */
  continuedAsNew: number;
  /** Child workflows started: two Actions each (start + execution). */
  childWorkflows: number;
  signals: number;
  /** Accepted Updates, de-duplicated by Update ID. */
  updates: number;
  timers: number;
  /** Every attempt of every Activity, retries included. */
  activityAttempts: number;
  searchAttributeUpserts: number;
  /** Workflow Tasks that recorded one or more markers (Local Activities, patches): one Action per such task. */
  markers: number;
  nexusOperations: number;
  workflowOptionsUpdated: number;
}

/** Events seen that are not billable where they are, or whose Actions may be missing from the history. */
export interface UncountedEvents {
  /** SignalExternalWorkflowExecutionInitiated: billed where the signal is received (another workflow's history). */
  signalsSentToOtherWorkflows: number;
  /** Scheduled Activities with no Started event yet: attempts in flight do not show until the Activity closes. */
  activitiesWithoutStartedEvent: number;
  /** Upserts that set only TemporalChangeVersion (exempt). */
  exemptUpserts: number;
}

export interface ActionCount {
  /** Sum of billable Actions, with children and Local Activity markers weighted as the docs say. */
  total: number;
  /** How many Actions of each kind (childWorkflows counts children: each is two Actions in `total`). */
  byKind: ActionsByKind;
  /** Every event of every history given, billable or not. */
  historyEvents: number;
  /** How many histories (runs) were counted. */
  runs: number;
  uncounted: UncountedEvents;
}

export const DOLLARS_PER_MILLION_ACTIONS = 50;

/** List price of `actions` at `dollarsPerMillion` (Temporal Cloud's entry rate is $50 per million Actions). */
export function actionsCost(actions: number, dollarsPerMillion = DOLLARS_PER_MILLION_ACTIONS): number {
  return (actions * dollarsPerMillion) / 1_000_000;
}

function emptyKinds(): ActionsByKind {
  return {
    workflowStarted: 0,
    continuedAsNew: 0,
    childWorkflows: 0,
    signals: 0,
    updates: 0,
    timers: 0,
    activityAttempts: 0,
    searchAttributeUpserts: 0,
    markers: 0,
    nexusOperations: 0,
    workflowOptionsUpdated: 0,
  };
}

/** int64 fields arrive as numbers, strings or Long objects depending on where the history came from. */
function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  return Number(String(value));
}

function eventTypeOf(event: HistoryEvent): number {
  const type = event.eventType as unknown;
  // Histories parsed without enum conversion carry the name ('EVENT_TYPE_TIMER_STARTED') instead of the number.
  if (typeof type === 'string') return (EventType as unknown as Record<string, number>)[type] ?? EventType.EVENT_TYPE_UNSPECIFIED;
  return toNumber(type);
}

function initiatorOf(event: HistoryEvent): number {
  const initiator = event.workflowExecutionStartedEventAttributes?.initiator as unknown;
  if (typeof initiator === 'string') return (Initiator as unknown as Record<string, number>)[initiator] ?? 0;
  return toNumber(initiator);
}

/**
 * Counts the Actions of one or more histories. Pass every run of a Continue-As-New chain (in any order) to
 * get the whole workflow: each link is one Action, whether the old run's ContinuedAsNew event, the new
 * run's Started event, or both are among the histories.
 */
export function countActions(histories: History | readonly History[]): ActionCount {
  const list: readonly History[] = Array.isArray(histories) ? histories : [histories as History];
  const byKind = emptyKinds();
  const uncounted: UncountedEvents = { signalsSentToOtherWorkflows: 0, activitiesWithoutStartedEvent: 0, exemptUpserts: 0 };
  let historyEvents = 0;

  // Continue-As-New links: the new run IDs named by ContinuedAsNew events, and the runs started by one.
  const continuedInto = new Set<string>();
  let continuedWithoutRunId = 0;
  const startedByContinueAsNew: Array<string | null> = [];

  for (const history of list) {
    const events = history.events ?? [];
    historyEvents += events.length;
    const updateIds = new Set<string>();
    const markerTasks = new Set<number>();
    const activityStarted = new Map<number, number>();
    const activityScheduled: number[] = [];

    for (const event of events) {
      switch (eventTypeOf(event)) {
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
          if (initiatorOf(event) === Initiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW) {
            startedByContinueAsNew.push(event.workflowExecutionStartedEventAttributes?.originalExecutionRunId || null);
          } else {
            byKind.workflowStarted += 1;
          }
          break;
        }
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: {
          const runId = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (runId) continuedInto.add(runId);
          else continuedWithoutRunId += 1;
          break;
        }
        case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
          byKind.childWorkflows += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
          byKind.signals += 1;
          break;
        case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
          uncounted.signalsSentToOtherWorkflows += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
          const attributes = event.workflowExecutionUpdateAcceptedEventAttributes;
          const updateId = attributes?.acceptedRequest?.meta?.updateId || attributes?.protocolInstanceId || `event-${toNumber(event.eventId)}`;
          if (!updateIds.has(updateId)) {
            updateIds.add(updateId);
            byKind.updates += 1;
          }
          break;
        }
        case EventType.EVENT_TYPE_TIMER_STARTED:
          byKind.timers += 1;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          activityScheduled.push(toNumber(event.eventId));
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
          const attributes = event.activityTaskStartedEventAttributes;
          // The Started event is written once, carrying the number of the attempt that closed the Activity:
          // attempts 1..n were each started (and billed), retries included.
          activityStarted.set(toNumber(attributes?.scheduledEventId), Math.max(1, toNumber(attributes?.attempt)));
          break;
        }
        case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
          const fields = Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
          if (fields.length > 0 && fields.every((field) => field === CHANGE_VERSION_ATTRIBUTE)) uncounted.exemptUpserts += 1;
          else byKind.searchAttributeUpserts += 1;
          break;
        }
        case EventType.EVENT_TYPE_MARKER_RECORDED:
          markerTasks.add(toNumber(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId));
          break;
        case EventType.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED:
        case EventType.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED:
          byKind.nexusOperations += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
          byKind.workflowOptionsUpdated += 1;
          break;
        default:
          break;
      }
    }

    for (const scheduledId of activityScheduled) {
      const attempts = activityStarted.get(scheduledId);
      if (attempts === undefined) uncounted.activitiesWithoutStartedEvent += 1;
      else byKind.activityAttempts += attempts;
    }
    byKind.markers += markerTasks.size;
  }

  // Each Continue-As-New link once: every ContinuedAsNew event, plus every CAN-started run whose
  // predecessor's history was not given (matched by run ID where the server records it).
  let unmatchedEvents = continuedWithoutRunId;
  let startsWithoutPredecessor = 0;
  for (const runId of startedByContinueAsNew) {
    if (runId && continuedInto.has(runId)) continue;
    if (!runId && unmatchedEvents > 0) {
      unmatchedEvents -= 1;
      continue;
    }
    startsWithoutPredecessor += 1;
  }
  byKind.continuedAsNew = continuedInto.size + continuedWithoutRunId + startsWithoutPredecessor;

  const total =
    byKind.workflowStarted +
    byKind.continuedAsNew +
    2 * byKind.childWorkflows +
    byKind.signals +
    byKind.updates +
    byKind.timers +
    byKind.activityAttempts +
    byKind.searchAttributeUpserts +
    byKind.markers +
    byKind.nexusOperations +
    byKind.workflowOptionsUpdated;

  return { total, byKind, historyEvents, runs: list.length, uncounted };
}

/** Event type names without the EVENT_TYPE_ prefix, with how often each occurs: for reports and checks. */
export function eventTypeTally(histories: History | readonly History[]): Record<string, number> {
  const list: readonly History[] = Array.isArray(histories) ? histories : [histories as History];
  const tally: Record<string, number> = {};
  for (const history of list) {
    for (const event of history.events ?? []) {
      const name = (EventType[eventTypeOf(event)] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');
      tally[name] = (tally[name] ?? 0) + 1;
    }
  }
  return tally;
}

/** One answered API call, as the harness saw it: enough to tell which ones Temporal billed outside history. */
export interface ApiCall {
  method: string;
  path: string;
  status: number;
  /** The error body's `error` code, when the answer is an error. */
  error?: string;
}

export interface OutsideHistory {
  /** Workflow Queries the API made: GET /leads/{id}, GET /deals/{id}, and the intake conflict path (200 on POST). */
  queries: number;
  /** Updates the workflow's validator rejected (409 conflict): billed, never in history. */
  rejectedUpdates: number;
}

const RECORD_READ = /^\/(leads|deals)\/[^/]+$/;
const RECORD_INTAKE = /^\/(leads|deals)$/;
const RECORD_STEP = /^\/(leads|deals)\/[^/]+\/[^/]+$/;

/**
 * The Actions the API's calls cost that no history shows. A 409 `closed` is answered from the archive or a
 * describe, without reaching a worker, so it is not an Update; a read that failed (404, 503) found no worker
 * answer either.
 */
export function countOutsideHistory(calls: readonly ApiCall[]): OutsideHistory {
  let queries = 0;
  let rejectedUpdates = 0;
  for (const { method, path, status, error } of calls) {
    const route = path.split('?')[0]!;
    if (method === 'GET' && status === 200 && RECORD_READ.test(route)) queries += 1;
    // The start found the record already running, and the API queried it for the answer.
    else if (method === 'POST' && status === 200 && RECORD_INTAKE.test(route)) queries += 1;
    else if (method === 'POST' && status === 409 && error === 'conflict' && RECORD_STEP.test(route)) rejectedUpdates += 1;
  }
  return { queries, rejectedUpdates };
}

export interface BilledActions {
  /** Actions in the histories plus those outside them. */
  total: number;
  inHistory: number;
  outsideHistory: OutsideHistory;
}

/** Everything Temporal Cloud bills for one lifecycle: its histories' Actions (countActions), its rejected Updates and Queries. */
export function billedActions(inHistoryCount: ActionCount, calls: readonly ApiCall[]): BilledActions {
  const inHistory = inHistoryCount.total;
  const outsideHistory = countOutsideHistory(calls);
  return { total: inHistory + outsideHistory.queries + outsideHistory.rejectedUpdates, inHistory, outsideHistory };
}
