import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openDatabase } from '../db/client.js';
import { createPolicyStore } from '../db/policy-store.js';
import { runSimulation, SimulationRequestError, type SimulationAnswer } from '../api/simulation.js';
import { comparisonRows } from '../domain/simulation/comparison-table.js';
import { serviceSettings } from '../service.config.js';

/**
 * npm run simulate -- --policy candidate.json --from 2026-09-01 --to 2026-12-01
 *
 * Backtests a policy against the recorded leads and deals of a window and prints the comparison with the
 * policies they actually ran under (POST /policies/simulate's engine).
 *
 *   --policy FILE     a candidate policy document (validated like POST /policies), or
 *   --version V       a published version
 *   --from, --to      the window [from, to): a date (midnight UTC) or an ISO instant
 *   --sample N        how many changed records to list (default 20)
 *   --json            print the whole answer as JSON instead of tables
 *   --api URL         ask a running API (POST URL/policies/simulate, token in API_TOKEN) instead of reading
 *                     the database directly (DATABASE_URL, else the embedded database in DATA_DIR, which
 *                     must not be open in a running `npm start` at the same time)
 */

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run simulate -- (--policy FILE | --version V) --from DATE --to DATE [--sample N] [--json] [--api URL]\n`);
  process.exit(2);
}

function instantArg(name: string, value: string | undefined): Date {
  if (!value) usage(`--${name} is required`);
  const at = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at.getTime())) usage(`--${name}: not a date or ISO instant: ${value}`);
  return at;
}

function progressLine(done: number, total: number, phase: string): void {
  const share = total > 0 ? ` ${done}/${total} (${Math.round((100 * done) / total)}%)` : '';
  process.stderr.write(`\r[simulate] ${phase}${share}    ${done === total && total > 0 ? '\n' : ''}`);
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const [index, row] of rows.entries()) {
    process.stdout.write(`${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}\n`);
    if (index === 0) process.stdout.write(`${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  }
}

function print(answer: SimulationAnswer): void {
  process.stdout.write(`\nCandidate ${answer.candidateVersion} over [${answer.window.from}, ${answer.window.to}), timers up to ${answer.asOf}\n`);
  process.stdout.write(`${answer.recorded.leads} leads and ${answer.recorded.deals} deals; recorded = the audit, under the policies they ran under\n\n`);
  printTable(comparisonRows(answer));
  const reproduction = answer.reproduction;
  if (reproduction) process.stdout.write(`\nReplayed under their own policies: ${reproduction.mismatches} of ${reproduction.records} records differ from the audit\n`);
  if (answer.truncated.leads || answer.truncated.deals) process.stdout.write(`Only the first ${answer.truncated.limit} leads / deals of the window were simulated\n`);
  if (answer.skipped.leads + answer.skipped.deals > 0) process.stdout.write(`Skipped ${answer.skipped.leads} leads and ${answer.skipped.deals} deals: versions not in the store: ${answer.skipped.unknownVersions.join(', ')}\n`);
  process.stdout.write(`\n${answer.changes.count} records would change${answer.refusedSteps ? `; ${answer.refusedSteps} recorded steps would be refused` : ''}. First ${answer.changes.first.length}:\n`);
  for (const change of answer.changes.first) process.stdout.write(`  ${change.kind} ${change.id}: ${change.why.join('; ')}\n`);
  process.stdout.write(`\nWhat a simulation cannot know:\n${answer.limits.map((limit) => `  - ${limit}`).join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      policy: { type: 'string' },
      version: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      sample: { type: 'string' },
      json: { type: 'boolean', default: false },
      api: { type: 'string' },
    },
  });
  if (!values.policy === !values.version) usage('give exactly one of --policy FILE or --version V');
  const from = instantArg('from', values.from);
  const to = instantArg('to', values.to);
  const sample = values.sample === undefined ? 20 : Number(values.sample);
  const policy = values.policy ? (JSON.parse(readFileSync(values.policy, 'utf8')) as unknown) : undefined;

  let answer: SimulationAnswer;
  if (values.api) {
    process.stderr.write(`[simulate] asking ${values.api} …\n`);
    const response = await fetch(`${values.api.replace(/\/$/, '')}/policies/simulate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.API_TOKEN ?? ''}` },
      body: JSON.stringify({ ...(policy ? { policy } : { version: values.version }), from: from.toISOString(), to: to.toISOString(), sample }),
    });
    const body = (await response.json()) as SimulationAnswer & { message?: string };
    if (!response.ok) usage(`the API answered ${response.status}: ${body.message ?? JSON.stringify(body)}`);
    answer = body;
  } else {
    const settings = serviceSettings();
    const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
    try {
      answer = await runSimulation(database.db, createPolicyStore(database.db), { policy, version: values.version, from, to, sample, onProgress: progressLine });
    } catch (error) {
      if (error instanceof SimulationRequestError) usage(error.message);
      throw error;
    } finally {
      await database.close();
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else print(answer);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
