// Records real histories for the replay tests: runs each scenario through the API on a dev server and
// writes every run of each workflow to test/histories/. Re-run after a deliberate, patched() workflow change:
//   npx tsx scripts/record-histories.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import type { Client } from '@temporalio/client';
import { secondsScalePolicy } from '../test/support/policies.js';
import { runEscalatedLead, runStandardLead, seedInboundQueue } from '../test/support/scenarios.js';
import { startService } from '../test/support/service.js';

const directory = new URL('../test/histories/', import.meta.url);

async function saveAllRuns(client: Client, workflowId: string, name: string): Promise<void> {
  let runId: string | undefined = undefined;
  let index = 0;
  for (;;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = new URL(`${name}${index === 0 ? '' : `.run${index + 1}`}.json`, directory);
    writeFileSync(file, historyToJSON(history) + '\n');
    console.log(`wrote ${file.pathname} (${history.events?.length} events)`);
    const last = history.events?.at(-1);
    const next: string | null | undefined = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return;
    runId = next;
    index += 1;
  }
}

async function main() {
  mkdirSync(directory, { recursive: true });
  const service = await startService(secondsScalePolicy());
  try {
    await seedInboundQueue(service);
    await runStandardLead(service, 'recorded-standard');
    await saveAllRuns(service.temporal.client, 'lead-recorded-standard', 'lead-standard');
    await runEscalatedLead(service, 'recorded-escalated');
    await saveAllRuns(service.temporal.client, 'lead-recorded-escalated', 'lead-escalated');
  } finally {
    await service.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
