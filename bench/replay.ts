import { readdirSync, readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { CURRENT_HISTORY_FOLDER } from '../test/support/histories.js';
import { workflowBundle } from '../test/support/temporal.js';
import type { BenchContext } from './context.js';
import { progress, spread, type Spread } from './support.js';

/**
 * 9. Workflow CPU per lifecycle: each history recorded from the current workflow code (test/support/histories.ts)
 * replayed in this process, `replays` times per round. A replay runs the workflow code on the same V8 machinery
 * as the worker (sandbox, promise hook, payload conversion) without a server, so its CPU time is what the
 * workflow code costs the worker for that lifecycle, and what rebuilding an evicted workflow costs. Service
 * only: raw Temporal has no such lifecycle to replay.
 */

export interface ReplayResult {
  how: string;
  replays: number;
  /** CPU milliseconds of this process per replayed lifecycle, per history: median of the rounds with min–max. */
  cpuMsPerLifecycle: Record<string, Spread & { events: number }>;
}

export async function measureReplay(ctx: BenchContext): Promise<ReplayResult> {
  const replays = ctx.options.quick ? 20 : 100;
  const rounds = ctx.options.rounds;
  const bundle = await workflowBundle();
  const files = readdirSync(CURRENT_HISTORY_FOLDER)
    .filter((file) => file.endsWith('.json'))
    .sort();
  const histories = files.map((file) => ({ name: file.replace(/\.json$/, ''), history: historyFromJSON(JSON.parse(readFileSync(new URL(file, CURRENT_HISTORY_FOLDER), 'utf8'))) }));

  const replayAll = async (name: string, history: History, count: number): Promise<number> => {
    const runs = function* () {
      for (let i = 0; i < count; i += 1) yield { workflowId: `${name}-${i}`, history };
    };
    const before = process.cpuUsage();
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, runs())) {
      if (result.error) throw result.error;
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / count;
  };

  const perRound = new Map<string, number[]>(histories.map(({ name }) => [name, []]));
  for (const { name, history } of histories) await replayAll(name, history, 5); // warm-up: bundle loaded, code optimised
  for (let round = 0; round < rounds; round += 1) {
    progress(`replay round ${round + 1}: ${histories.length} histories × ${replays}`);
    for (const { name, history } of histories) perRound.get(name)!.push(await replayAll(name, history, replays));
  }
  return {
    how: `${replays} replays of each history per round, ${rounds} rounds, histories from ${CURRENT_HISTORY_FOLDER.pathname.replace(/.*\/test\//, 'test/')}; CPU time of the bench process (user + system) per replay`,
    replays,
    cpuMsPerLifecycle: Object.fromEntries(histories.map(({ name, history }) => [name, { ...spread(perRound.get(name)!), events: history.events?.length ?? 0 }])),
  };
}
