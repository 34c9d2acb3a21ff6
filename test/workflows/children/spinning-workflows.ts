import { condition, defineSignal, setHandler } from '@temporalio/workflow';

/** Workflows for the sandbox's deadlock guard (test/workflows/deadlock-guard.test.ts), run by spinning-worker.ts. */
export const spinSignal = defineSignal('spin');

/** Spins in its signal handler: the call that delivers the signal never returns on its own. */
export async function spinningWorkflow(): Promise<void> {
  let signalled = false;
  setHandler(spinSignal, () => {
    signalled = true;
    for (;;) {
      // no yield
    }
  });
  await condition(() => signalled);
}

export async function answeringWorkflow(value: number): Promise<number> {
  await condition(() => true);
  return value + 1;
}
