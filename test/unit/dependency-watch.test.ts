import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DependencyStatus, watchDependencies } from '../../worker/resilience.js';

// A check that never answers, and that nothing else holds: like a request queued while Temporal is down. The
// watch's deadline for it used to be an AbortSignal.any over AbortSignal.timeout, which Node holds weakly: once
// the garbage collector ran, the deadline was gone with its listener and the watch never reported again.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const silentCheck = () => new Promise(() => {});

/** Runs the watch for `forMs` while collecting garbage, and returns what it logged. */
async function watchFor(forMs: number, options: { timeoutMs: number; stopAfterMs?: number }): Promise<string[]> {
  const lines: string[] = [];
  const stop = watchDependencies(new DependencyStatus({}, (line) => lines.push(line)), [{ name: 'silent dependency', check: silentCheck }], {
    intervalMs: 50,
    timeoutMs: options.timeoutMs,
  });
  const churn = setInterval(() => {
    collectGarbage();
    for (let i = 0; i < 50_000; i += 1) void { i };
  }, 20);
  const stopTimer = options.stopAfterMs === undefined ? undefined : setTimeout(stop, options.stopAfterMs);
  try {
    await new Promise((resolve) => setTimeout(resolve, forMs));
    return lines;
  } finally {
    clearInterval(churn);
    clearTimeout(stopTimer);
    stop();
  }
}

describe('the dependency watch', () => {
  test('reports a check that never answers once its timeout passes, with the garbage collector running', async () => {
    assert.deepEqual(await watchFor(1_000, { timeoutMs: 150 }), ['[dependencies] silent dependency unavailable (no answer within 150 ms)']);
  });

  test('stopped while a check is still waiting, it ends that check and reports nothing', async () => {
    assert.deepEqual(await watchFor(600, { timeoutMs: 400, stopAfterMs: 100 }), []);
  });
});
