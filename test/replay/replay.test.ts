import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { quietWorkerLogs, workflowBundle } from '../support/temporal.js';

const directory = new URL('../histories/', import.meta.url);
// legacy/ holds histories of runs from before the step engine: they replay through workflows/legacy/.
const files = readdirSync(directory, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.json'))
  .sort();

/**
 * Histories recorded from real runs (scripts/record-histories.ts) must replay on today's workflow code:
 * a change that running workflows would notice fails here until it is guarded with patched().
 */
describe('replay of recorded histories', () => {
  test('there are recorded histories to replay', () => {
    assert.ok(files.length >= 2, `expected recorded histories in ${directory.pathname}`);
  });

  for (const file of files) {
    test(`replays ${file}`, async () => {
      quietWorkerLogs();
      const history = historyFromJSON(JSON.parse(readFileSync(new URL(file, directory), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file.replace(/\.json$/, ''));
    });
  }
});
