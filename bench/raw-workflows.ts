import { condition, defineUpdate, proxyActivities, proxyLocalActivities, proxySinks, setHandler, sleep, workflowInfo, type Sinks } from '@temporalio/workflow';

/**
 * The raw-Temporal baselines the benchmark runs next to the service, on their own task queue and worker:
 * the least a workflow can do for each thing measured, so the difference is what the service adds.
 * Workflow code: deterministic, no I/O.
 */

export interface RawActivities {
  /** Does nothing but note that it ran (the bench process timestamps it). */
  touch(index: number): Promise<void>;
  /** Does nothing at all: what a local activity costs by itself. */
  nothing(): Promise<void>;
  /** Inserts one audit row in Postgres in one transaction, keyed on workflow ID + sequence so a retry writes once. */
  recordRawStep(workflowId: string, seq: number): Promise<void>;
}

/**
 * Tells the bench process, outside history, that a storm workflow has set its timer: sinks run after the
 * activation and never on replay, so this costs no command and counts each workflow once.
 */
export interface RawSinks extends Sinks {
  storm: { timerSet(index: number): void };
}

const { touch, recordRawStep } = proxyActivities<RawActivities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<RawActivities>({ startToCloseTimeout: '1 minute' });
const { storm } = proxySinks<RawSinks>();

/**
 * Starts and completes: the floor for "start a workflow". It takes the lead's intake payload as its input,
 * so the start carries the same bytes as the service's.
 */
export async function minimalWorkflow(_intake?: unknown): Promise<void> {
  // nothing: the start itself is what is measured
}

export const pingUpdate = defineUpdate<number, [number]>('ping');

/** Waits forever; answers a trivial update whose validator checks its argument, like the API's steps do. */
export async function updatableWorkflow(): Promise<void> {
  setHandler(
    pingUpdate,
    (value) => value,
    {
      validator: (value) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error('ping needs a number');
      },
    },
  );
  await condition(() => false);
}

export const durablePingUpdate = defineUpdate<number, [number]>('durablePing');

/**
 * Waits forever; answers an update only after one audit row is committed in Postgres: the floor for a step
 * that, like the service's, never answers before its audit is durable.
 */
export async function durableUpdatableWorkflow(): Promise<void> {
  setHandler(
    durablePingUpdate,
    async (value) => {
      await recordRawStep(workflowInfo().workflowId, value);
      return value;
    },
    {
      validator: (value) => {
        if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error('durablePing needs a number');
      },
    },
  );
  await condition(() => false);
}

export const localDurablePingUpdate = defineUpdate<number, [number]>('localDurablePing');
export const localNothingPingUpdate = defineUpdate<number, [number]>('localNothingPing');

/**
 * The same as durableUpdatableWorkflow, with the write as a local activity inside the workflow task that
 * delivered the update, as the service's steps make it: one server round trip plus the database's. Its second
 * update runs a local activity that does nothing: the price of the local activity alone, the floor for any
 * step that commits something before it answers.
 */
export async function localDurableUpdatableWorkflow(): Promise<void> {
  const validator = (value: number) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error('the update needs a number');
  };
  setHandler(
    localDurablePingUpdate,
    async (value) => {
      await local.recordRawStep(workflowInfo().workflowId, value);
      return value;
    },
    { validator },
  );
  setHandler(
    localNothingPingUpdate,
    async (value) => {
      await local.nothing();
      return value;
    },
    { validator },
  );
  await condition(() => false);
}

/**
 * Sleeps on one timer until an absolute instant (epoch ms), then runs one trivial activity: the floor for a
 * timer storm, as a lead sleeps on its deadline's one timer (its due-soon mark arms none).
 */
export async function sleepThenActivityWorkflow(untilEpochMs: number, index: number): Promise<void> {
  const delay = untilEpochMs - Date.now();
  if (delay > 0) {
    storm.timerSet(index);
    await sleep(delay);
  }
  await touch(index);
}
