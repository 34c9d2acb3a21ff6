import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';

/** Small helpers shared by the measurements: progress on stderr, timing, percentiles, a concurrency pool. */

const benchStart = performance.now();

/** Progress goes to stderr, so stdout carries only the result table. */
export function progress(message: string): void {
  const seconds = ((performance.now() - benchStart) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

/** Reports `done/total` at most every `everyMs`, and always the last one. */
export function throttledProgress(label: string, total: number, everyMs = 2_000): (done: number, suffix?: string) => void {
  let last = 0;
  let finished = false;
  return (done, suffix = '') => {
    const now = performance.now();
    if (finished || (done < total && now - last < everyMs)) return;
    finished = done >= total;
    last = now;
    progress(`${label}: ${done}/${total}${suffix ? ` ${suffix}` : ''}`);
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export const now = () => performance.now();

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending list (p in 0..100). */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(sortedAscending.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Rounds for reports: 3 significant digits at most, whole numbers above 100. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Runs task(0..count-1) with at most `concurrency` in flight; returns each task's duration in ms (by index)
 * and the wall time of the whole batch. A failing task fails the batch.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<unknown>,
  onProgress?: (done: number) => void,
): Promise<{ durationsMs: number[]; wallMs: number }> {
  const durationsMs = new Array<number>(count).fill(0);
  let next = 0;
  let done = 0;
  const started = now();
  async function lane(): Promise<void> {
    for (;;) {
      const index = next;
      next += 1;
      if (index >= count) return;
      const t0 = now();
      await task(index);
      durationsMs[index] = now() - t0;
      done += 1;
      onProgress?.(done);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => lane()));
  return { durationsMs, wallMs: now() - started };
}

/** Polls `read` until `accept` holds; gives up after timeoutMs and returns the last value with ok=false. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  options: { timeoutMs: number; intervalMs?: number; onValue?: (value: T) => void },
): Promise<{ ok: boolean; value: T }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    options.onValue?.(value);
    if (accept(value)) return { ok: true, value };
    if (Date.now() > deadline) return { ok: false, value };
    await sleep(options.intervalMs ?? 250);
  }
}

function isIdle(worker: Worker): boolean {
  const status = worker.getStatus();
  return status.numInFlightWorkflowActivations === 0 && status.numInFlightActivities === 0;
}

/** Waits until every worker has had nothing in flight for `quietMs` straight (or timeoutMs passes). */
export async function waitForIdle(workers: readonly Worker[], { quietMs = 1_000, timeoutMs = 120_000 } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | null = null;
  while (Date.now() < deadline) {
    if (workers.every(isIdle)) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince >= quietMs) return true;
    } else {
      quietSince = null;
    }
    await sleep(50);
  }
  return false;
}

/** The first whole minute (UTC) at or after `at`. */
export function ceilToMinute(at: Date): Date {
  const ms = Math.ceil(at.getTime() / 60_000) * 60_000;
  return new Date(ms);
}

export function ratio(service: number, raw: number): number {
  return raw === 0 || !Number.isFinite(raw) ? Number.NaN : service / raw;
}

/**
 * Terminates the workflows a measurement left open, so the next one starts with an empty sticky cache and
 * an idle worker. Already closed workflows are skipped.
 */
export async function terminateAll(client: Client, workflowIds: readonly string[], concurrency = 20): Promise<void> {
  if (workflowIds.length === 0) return;
  progress(`cleanup: terminating ${workflowIds.length} workflows left open by the measurement`);
  await runPool(workflowIds.length, concurrency, async (index) => {
    try {
      await client.workflow.getHandle(workflowIds[index]!).terminate('benchmark cleanup');
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'WorkflowNotFoundError') throw error;
    }
  });
}

/** One figure measured in several rounds: the median steers, min–max shows how far a single round can be trusted. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number[];
}

/** Median (the mean of the middle two for an even count), min and max of per-round figures. */
export function spread(perRound: readonly number[]): Spread {
  const sorted = [...perRound].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    median: round(median, 2),
    min: round(sorted[0] ?? Number.NaN, 2),
    max: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
    rounds: perRound.map((value) => round(value, 2)),
  };
}

/**
 * Which side goes first in round `index`: alternating, so neither side always runs on the warmer (or more
 * loaded) server.
 */
export const rawFirstIn = (index: number): boolean => index % 2 === 0;

/** The path of the first place two JSON values differ, with both values there; null when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
      if (found) return found;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path || '(root)'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}
