import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { actionsCost, billedActions, countActions, countOutsideHistory, eventTypeTally, type ApiCall } from '../../bench/actions.js';

interface RawEvent {
  eventId: string;
  eventType: string;
  [attributes: string]: unknown;
}

const recordedFile = new URL('../histories/lead-standard.json', import.meta.url);
const recordedJson = JSON.parse(readFileSync(recordedFile, 'utf8')) as { events: RawEvent[] };

/** A tally straight from the JSON text, independent of the module under test and of the proto classes. */
function rawTally(events: RawEvent[]) {
  const of = (type: string) => events.filter((event) => event.eventType === `EVENT_TYPE_${type}`);
  const attempts = of('ACTIVITY_TASK_STARTED').reduce(
    (sum, event) => sum + Number((event.activityTaskStartedEventAttributes as { attempt?: number }).attempt ?? 1),
    0,
  );
  const changeVersionOnly = of('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').filter((event) => {
    const fields = Object.keys((event.upsertWorkflowSearchAttributesEventAttributes as { searchAttributes?: { indexedFields?: object } }).searchAttributes?.indexedFields ?? {});
    return fields.length > 0 && fields.every((field) => field === 'TemporalChangeVersion');
  });
  return {
    starts: of('WORKFLOW_EXECUTION_STARTED').length,
    changeVersionUpserts: changeVersionOnly.length,
    updates: of('WORKFLOW_EXECUTION_UPDATE_ACCEPTED').length,
    timers: of('TIMER_STARTED').length,
    upserts: of('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').length,
    activityScheduled: of('ACTIVITY_TASK_SCHEDULED').length,
    activityAttempts: attempts,
    signals: of('WORKFLOW_EXECUTION_SIGNALED').length,
    markers: of('MARKER_RECORDED').length,
  };
}

describe('countActions over the recorded standard lead (test/histories/lead-standard.json)', () => {
  const history = historyFromJSON(recordedJson);
  const counted = countActions(history);
  const raw = rawTally(recordedJson.events);

  test('the recorded history is the kind of lifecycle the counts assume', () => {
    // If the file is re-recorded these numbers may move; the equalities below must hold regardless.
    assert.equal(raw.starts, 1);
    assert.ok(raw.updates >= 8, `expected the 8 API steps as updates, got ${raw.updates}`);
    assert.equal(raw.signals, 0);
    // The one patch the run starts with ('step-engine'), and the exempt upsert of TemporalChangeVersion it brings.
    assert.equal(raw.markers, 1);
    assert.equal(raw.changeVersionUpserts, 1);
  });

  test('each kind matches an independent tally of the event types', () => {
    assert.equal(counted.byKind.workflowStarted, raw.starts);
    assert.equal(counted.byKind.continuedAsNew, 0);
    assert.equal(counted.byKind.updates, raw.updates);
    assert.equal(counted.byKind.timers, raw.timers);
    assert.equal(counted.byKind.searchAttributeUpserts, raw.upserts - raw.changeVersionUpserts);
    assert.equal(counted.byKind.activityAttempts, raw.activityAttempts);
    assert.equal(counted.byKind.activityAttempts, raw.activityScheduled, 'no retries in the recorded run: one attempt per activity');
    assert.equal(counted.byKind.signals, 0);
    assert.equal(counted.byKind.markers, raw.markers, 'one marker in one workflow task');
    assert.equal(counted.byKind.childWorkflows, 0);
  });

  test('the total is the sum of the kinds, and every event is counted in historyEvents', () => {
    assert.equal(counted.total, raw.starts + raw.updates + raw.timers + (raw.upserts - raw.changeVersionUpserts) + raw.activityAttempts + raw.markers);
    assert.equal(counted.historyEvents, recordedJson.events.length);
    assert.equal(counted.runs, 1);
    assert.deepEqual(counted.uncounted, { signalsSentToOtherWorkflows: 0, activitiesWithoutStartedEvent: 0, exemptUpserts: raw.changeVersionUpserts });
  });

  test('eventTypeTally agrees with the raw JSON', () => {
    const tally = eventTypeTally(history);
    assert.equal(tally.WORKFLOW_EXECUTION_UPDATE_ACCEPTED, raw.updates);
    assert.equal(tally.TIMER_STARTED, raw.timers);
    assert.equal(Object.values(tally).reduce((a, b) => a + b, 0), recordedJson.events.length);
  });

  test('cost at $50 per million actions', () => {
    assert.equal(actionsCost(1_000_000), 50);
    assert.equal(actionsCost(counted.total), (counted.total * 50) / 1_000_000);
    assert.equal(actionsCost(20, 25), 0.0005);
  });
});

// ---- small hand-built histories -------------------------------------------------------------------

let nextId = 0;
/** `event('TIMER_STARTED', { timerStartedEventAttributes: {...} })`; the attributes object defaults to empty. */
function event(eventType: string, attributes: Record<string, unknown> = {}): RawEvent {
  nextId += 1;
  const attributesKey = `${eventType.toLowerCase().replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase())}EventAttributes`;
  return {
    eventId: String(nextId),
    eventTime: '2026-01-01T00:00:00Z',
    eventType: `EVENT_TYPE_${eventType}`,
    ...(Object.keys(attributes).length === 0 ? { [attributesKey]: {} } : attributes),
  } as RawEvent;
}
function history(...events: RawEvent[]) {
  return historyFromJSON({ events });
}
const started = (attributes: Record<string, unknown> = {}) =>
  event('WORKFLOW_EXECUTION_STARTED', { workflowExecutionStartedEventAttributes: { workflowType: { name: 'wf' }, ...attributes } });
const workflowTask = () => [event('WORKFLOW_TASK_SCHEDULED'), event('WORKFLOW_TASK_STARTED'), event('WORKFLOW_TASK_COMPLETED')];

function activity(attempt: number | null, outcome: 'COMPLETED' | 'FAILED' | 'TIMED_OUT' = 'COMPLETED'): RawEvent[] {
  const scheduled = event('ACTIVITY_TASK_SCHEDULED', { activityTaskScheduledEventAttributes: { activityId: 'a', activityType: { name: 'act' } } });
  if (attempt === null) return [scheduled];
  const startedEvent = event('ACTIVITY_TASK_STARTED', { activityTaskStartedEventAttributes: { scheduledEventId: scheduled.eventId, attempt } });
  return [scheduled, startedEvent, event(`ACTIVITY_TASK_${outcome}`)];
}

describe('countActions on hand-built histories', () => {
  test('activity retries: every attempt counts, taken from the Started event of the closing attempt', () => {
    const counted = countActions(
      history(
        started(),
        ...workflowTask(),
        ...activity(1),
        ...activity(3),
        ...activity(5, 'FAILED'),
        ...activity(2, 'TIMED_OUT'),
        ...activity(null),
        event('WORKFLOW_EXECUTION_COMPLETED'),
      ),
    );
    assert.equal(counted.byKind.activityAttempts, 1 + 3 + 5 + 2);
    assert.equal(counted.uncounted.activitiesWithoutStartedEvent, 1);
    assert.equal(counted.total, 1 + 11);
  });

  test('continue-as-new: each link counts once whether the old run, the new run, or both are given', () => {
    const run1 = history(
      started(),
      ...workflowTask(),
      event('TIMER_STARTED', { timerStartedEventAttributes: { timerId: '1', startToFireTimeout: '5s' } }),
      event('WORKFLOW_EXECUTION_CONTINUED_AS_NEW', { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'run-2' } }),
    );
    const run2 = history(
      started({ initiator: 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW', continuedExecutionRunId: 'run-1', originalExecutionRunId: 'run-2' }),
      ...workflowTask(),
      event('WORKFLOW_EXECUTION_CONTINUED_AS_NEW', { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'run-3' } }),
    );
    const run3 = history(
      started({ initiator: 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW', continuedExecutionRunId: 'run-2', originalExecutionRunId: 'run-3' }),
      ...workflowTask(),
      event('WORKFLOW_EXECUTION_COMPLETED'),
    );

    const whole = countActions([run3, run1, run2]);
    assert.deepEqual([whole.byKind.workflowStarted, whole.byKind.continuedAsNew, whole.byKind.timers], [1, 2, 1]);
    assert.equal(whole.total, 4);
    assert.equal(whole.runs, 3);

    assert.equal(countActions([run2, run3]).byKind.continuedAsNew, 2, 'run-2 started by CAN from a run not given, and continued into run-3');
    assert.equal(countActions(run3).byKind.continuedAsNew, 1);
    assert.equal(countActions(run1).byKind.continuedAsNew, 1);
    assert.equal(countActions(run1).byKind.workflowStarted, 1);
  });

  test('continue-as-new without run IDs is matched by count', () => {
    const old = history(started(), event('WORKFLOW_EXECUTION_CONTINUED_AS_NEW'));
    const next = history(started({ initiator: 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW' }));
    assert.equal(countActions([old, next]).byKind.continuedAsNew, 1);
  });

  test('upserts, updates, signals, markers and children follow the published rules', () => {
    const wftA = event('WORKFLOW_TASK_COMPLETED');
    const wftB = event('WORKFLOW_TASK_COMPLETED');
    const marker = (task: RawEvent) =>
      event('MARKER_RECORDED', { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: task.eventId } });
    const accepted = (updateId: string) =>
      event('WORKFLOW_EXECUTION_UPDATE_ACCEPTED', {
        workflowExecutionUpdateAcceptedEventAttributes: { protocolInstanceId: updateId, acceptedRequest: { meta: { updateId } } },
      });
    const upsert = (...keys: string[]) =>
      event('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', {
        upsertWorkflowSearchAttributesEventAttributes: {
          searchAttributes: { indexedFields: Object.fromEntries(keys.map((key) => [key, { metadata: {}, data: 'IiI=' }])) },
        },
      });
    const counted = countActions(
      history(
        started(),
        wftA,
        marker(wftA),
        marker(wftA),
        marker(wftA),
        wftB,
        marker(wftB),
        upsert('LeadStage', 'OwnerId', 'SlaState'),
        upsert('TemporalChangeVersion'),
        accepted('u-1'),
        accepted('u-1'),
        accepted('u-2'),
        event('WORKFLOW_EXECUTION_SIGNALED'),
        event('SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED'),
        event('START_CHILD_WORKFLOW_EXECUTION_INITIATED'),
      ),
    );
    assert.equal(counted.byKind.markers, 2, 'four markers in two workflow tasks: two actions');
    assert.equal(counted.byKind.searchAttributeUpserts, 1, 'three attributes in one command: one action');
    assert.equal(counted.uncounted.exemptUpserts, 1);
    assert.equal(counted.byKind.updates, 2, 'a de-duplicated update ID counts once');
    assert.equal(counted.byKind.signals, 1);
    assert.equal(counted.uncounted.signalsSentToOtherWorkflows, 1);
    assert.equal(counted.byKind.childWorkflows, 1);
    assert.equal(counted.total, 1 + 2 + 1 + 2 + 1 + 2);
    assert.equal(counted.historyEvents, 15);
  });
});

describe('billed actions outside history', () => {
  const calls: ApiCall[] = [
    { method: 'POST', path: '/leads', status: 201 },
    // intake conflict path: the start found the lead running and the API queried it
    { method: 'POST', path: '/leads', status: 200 },
    { method: 'GET', path: '/leads/L-1', status: 200 },
    { method: 'GET', path: '/deals/D-1?x=1', status: 200 },
    // no worker answered these reads
    { method: 'GET', path: '/leads/L-2', status: 404, error: 'not-found' },
    { method: 'GET', path: '/leads/L-1/timeline', status: 200 },
    { method: 'POST', path: '/leads/L-1/accept', status: 200 },
    { method: 'POST', path: '/leads/L-1/qualify', status: 409, error: 'conflict' },
    { method: 'POST', path: '/deals/D-1/kickoff', status: 409, error: 'conflict' },
    // answered from the archive: never reached a worker
    { method: 'POST', path: '/leads/L-1/accept', status: 409, error: 'closed' },
    { method: 'POST', path: '/reps', status: 409, error: 'conflict' },
  ];

  test('queries and validator-rejected updates are counted from the API calls', () => {
    assert.deepEqual(countOutsideHistory(calls), { queries: 3, rejectedUpdates: 2 });
    assert.deepEqual(countOutsideHistory([]), { queries: 0, rejectedUpdates: 0 });
  });

  test('billed total adds them to the actions of a hand-built history', () => {
    const update = (id: string) =>
      event('WORKFLOW_EXECUTION_UPDATE_ACCEPTED', { workflowExecutionUpdateAcceptedEventAttributes: { protocolInstanceId: id, acceptedRequest: { meta: { updateId: id } } } });
    const inHistory = countActions(history(started(), ...workflowTask(), update('u-1'), ...activity(1), event('TIMER_STARTED', { timerStartedEventAttributes: { timerId: '1' } })));
    assert.equal(inHistory.total, 1 + 1 + 1 + 1);
    assert.deepEqual(billedActions(inHistory, calls), { total: 4 + 3 + 2, inHistory: 4, outsideHistory: { queries: 3, rejectedUpdates: 2 } });
  });
});
