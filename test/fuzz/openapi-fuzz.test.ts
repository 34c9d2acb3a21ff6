import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { closeServer, listen } from '../../api/server.js';
import type { Role } from '../../service.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { startService, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * The served OpenAPI document, fuzzed by schemathesis once per role against the whole service on real parts
 * over real HTTP: whatever the document calls a request, valid or not, the API answers it without a 5xx and
 * without hanging. Path parameters name seeded records half the time (test/fuzz/hooks.py), so steps reach
 * real workflows, not only 404s.
 */

const ROLES: Role[] = ['sales', 'cs', 'ops', 'manager'];
/** Cases per operation in one fuzzing cycle; cycles repeat until the run's time budget is spent. */
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 10);
/**
 * Each role gets two runs with a time budget each (schemathesis --max-time): the schema's examples and the
 * coverage phase's boundary and negative cases, then random fuzzing, where path parameters name seeded
 * records. Separate budgets, so a slow coverage phase on a busy machine cannot leave fuzzing no time. Four
 * roles one after another keep the file under 4 minutes on 2 cores.
 */
const BUDGETS_S = { coverage: Number(process.env.FUZZ_COVERAGE_SECONDS ?? 30), fuzzing: Number(process.env.FUZZ_FUZZING_SECONDS ?? 15) };
/** A request unanswered this long is a hang. */
const REQUEST_TIMEOUT_S = 15;
/** A run that outlives its budget by this much is stopped and fails (schemathesis stops itself at the budget). */
const OVERRUN_MS = 40_000;

const hooksFile = fileURLToPath(new URL('./hooks.py', import.meta.url));
const schemathesisPath = process.env.SCHEMATHESIS_PATH ?? fileURLToPath(new URL('../../.tools/venv/bin/schemathesis', import.meta.url));

interface Outcome {
  operation: string;
  status: number | null;
  hang?: boolean;
  knownRecord?: boolean;
  request?: string;
  body?: string | null;
  answer?: string;
}

interface RoleFigures {
  role: Role;
  operations: number;
  requests: number;
  serverErrors: Outcome[];
  hangs: Outcome[];
  knownRecordHits: number;
  seconds: number;
}

function run(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  const { env, cwd, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    // Run in the scratch folder: schemathesis keeps a cache (.schemathesis/) in its working directory.
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

describe('OpenAPI fuzz (schemathesis) against the whole service', () => {
  let service: RunningService;
  let server: Awaited<ReturnType<typeof listen>>['server'];
  let baseUrl: string;
  let workDir: string;
  const records: Record<string, string[]> = {};
  const figures: RoleFigures[] = [];

  before(async () => {
    assert.ok(existsSync(schemathesisPath), `schemathesis not installed at ${schemathesisPath}: run npm run setup`);
    service = await startService(alwaysOpenPolicy('fuzz-always-open'));
    const seed = async (method: string, path: string, role: Role, body: unknown) => {
      const answer = await service.request(method, path, { role, body });
      assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    // The fuzzing actors own records, so their steps pass the ownership checks and reach the workflows.
    for (const [repId, seniority] of [['sales-actor', 'senior'], ['rep-anna', 'junior'], ['cs-actor', 'senior'], ['cs-anna', 'junior']] as const) {
      await seed('POST', '/reps', 'ops', { repId, name: repId, seniority, managerId: 'manager-actor' });
    }
    await seed('POST', '/queues', 'ops', { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'manager-actor', members: ['sales-actor', 'rep-anna'] });
    await seed('POST', '/queues', 'ops', { queueId: 'customer-success', name: 'CS', strategy: 'round-robin', managerId: 'manager-actor', members: ['cs-actor', 'cs-anna'] });

    const leadIds = Array.from({ length: 6 }, () => uniqueId('FL'));
    for (const [index, leadId] of leadIds.entries()) {
      const score = index < 4 ? { fit: 30, behavior: 10, intent: 5 } : { fit: 5, behavior: 0, intent: 0 };
      await seed('POST', '/leads', 'sales', { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Fuzz ${index}`, icpTier: (index % 3) + 1, source: 'web', score });
    }
    const dealIds = Array.from({ length: 3 }, () => uniqueId('FD'));
    for (const dealId of dealIds) {
      await seed('POST', '/deals', 'sales', {
        dealId,
        accountName: `Account ${dealId}`,
        amount: 12_000.5,
        currency: 'EUR',
        signedAt: new Date().toISOString(),
        closedWonAt: new Date().toISOString(),
        salesOwnerId: 'sales-actor',
        csOwnerId: 'cs-actor',
      });
    }
    // Routed before the fuzzer starts, so an owned MQL is there to accept.
    const deadline = Date.now() + 30_000;
    for (const leadId of leadIds.slice(0, 4)) {
      while ((await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).body?.ownerId == null) {
        assert.ok(Date.now() < deadline, `lead ${leadId} was never routed`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    Object.assign(records, {
      leadId: leadIds,
      dealId: dealIds,
      repId: ['sales-actor', 'rep-anna', 'cs-actor'],
      queueId: ['inbound', 'customer-success'],
      version: ['fuzz-always-open'],
    });

    process.env.HOST = '127.0.0.1';
    const listening = await listen(service.app, 0);
    server = listening.server;
    baseUrl = `http://127.0.0.1:${listening.port}`;
    workDir = mkdtempSync(join(tmpdir(), 'revops-fuzz-'));
  });

  after(async () => {
    if (figures.length > 0) {
      const total = (pick: (f: RoleFigures) => number) => figures.reduce((sum, f) => sum + pick(f), 0);
      figures.sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role));
      const perRole = figures
        .map((f) => `${f.role}: operations=${f.operations} requests=${f.requests} 5xx=${f.serverErrors.length} hangs=${f.hangs.length} known-record=${f.knownRecordHits} ${f.seconds}s`)
        .join(' | ');
      console.log(
        `FUZZ SUMMARY operations=${Math.max(...figures.map((f) => f.operations))} requests=${total((f) => f.requests)} 5xx=${total((f) => f.serverErrors.length)} ` +
          `hangs=${total((f) => f.hangs.length)} (per role ${BUDGETS_S.coverage} s examples+coverage and ${BUDGETS_S.fuzzing} s fuzzing, ${REQUEST_TIMEOUT_S} s request timeout) | ${perRole}`,
      );
    }
    if (server) await closeServer(server);
    await service?.stop();
    if (workDir && !process.env.FUZZ_KEEP_LOGS) rmSync(workDir, { recursive: true, force: true });
    else if (workDir) console.log(`fuzz logs kept in ${workDir}`);
  });

  /** One schemathesis run as `role`; its requests land in `log`. */
  async function fuzz(role: Role, phases: keyof typeof BUDGETS_S, log: string) {
    const budget = BUDGETS_S[phases];
    const result = await run(
      schemathesisPath,
      [
        'run',
        `${baseUrl}/openapi.json`,
        '--header',
        `Authorization: Bearer ${tokenFor(role)}`,
        '--checks',
        'not_a_server_error',
        '--phases',
        phases === 'coverage' ? 'examples,coverage' : 'fuzzing',
        '--max-examples',
        String(MAX_EXAMPLES),
        '--max-time',
        String(budget),
        '--request-timeout',
        String(REQUEST_TIMEOUT_S),
        '--seed',
        '20261123',
        '--generation-database',
        'none',
        '--suppress-health-check',
        'all',
        // One worker: Python spends the time generating cases, and hypothesis' lambda descriptions
        // (ast.parse) intermittently fail with several threads on CPython 3.11.
        '--workers',
        '1',
        '--no-color',
        // Fuzz only some operations while working on them (e.g. FUZZ_INCLUDE_PATH_REGEX='^/reports/'); CI runs all.
        ...(process.env.FUZZ_INCLUDE_PATH_REGEX ? ['--include-path-regex', process.env.FUZZ_INCLUDE_PATH_REGEX] : []),
      ],
      {
        env: { ...process.env, SCHEMATHESIS_HOOKS: hooksFile, FUZZ_LOG: log, FUZZ_RECORDS: JSON.stringify(records), PYTHONUNBUFFERED: '1' },
        cwd: workDir,
        timeoutMs: budget * 1000 + OVERRUN_MS,
      },
    );
    writeFileSync(join(workDir, `${role}-${phases}.out`), result.output);
    assert.equal(result.timedOut, false, `schemathesis (${phases}) ran past its ${budget} s budget\n${result.output.slice(-3000)}`);
    return result;
  }

  for (const role of ROLES) {
    test(`as ${role}: no 5xx and no hang`, { timeout: BUDGETS_S.coverage * 1000 + BUDGETS_S.fuzzing * 1000 + 2 * OVERRUN_MS }, async () => {
      const log = join(workDir, `${role}.ndjson`);
      writeFileSync(log, '');
      const started = Date.now();
      const runs = [await fuzz(role, 'coverage', log), await fuzz(role, 'fuzzing', log)];
      const outcomes = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Outcome);
      const entry: RoleFigures = {
        role,
        operations: new Set(outcomes.map((outcome) => outcome.operation)).size,
        requests: outcomes.length,
        serverErrors: outcomes.filter((outcome) => outcome.status !== null && outcome.status >= 500),
        hangs: outcomes.filter((outcome) => outcome.hang),
        knownRecordHits: outcomes.filter((outcome) => outcome.knownRecord).length,
        seconds: Math.round((Date.now() - started) / 1000),
      };
      figures.push(entry);
      const report = (list: Outcome[]) => list.slice(0, 5).map((outcome) => `${outcome.request} ${outcome.body ?? ''} -> ${outcome.status} ${outcome.answer ?? ''}`).join('\n');
      assert.ok(entry.requests > 0, `schemathesis sent no request\n${runs[0]!.output.slice(-3000)}`);
      assert.ok(entry.knownRecordHits > 0, 'no request named a seeded record');
      assert.equal(entry.serverErrors.length, 0, `5xx answers:\n${report(entry.serverErrors)}`);
      assert.equal(entry.hangs.length, 0, `requests without an answer within ${REQUEST_TIMEOUT_S} s:\n${report(entry.hangs)}`);
      // Anything else schemathesis counts as an error (a schema it cannot use, a crash) fails the run too.
      for (const result of runs) assert.equal(result.code, 0, result.output.slice(-4000));
    });
  }
});
