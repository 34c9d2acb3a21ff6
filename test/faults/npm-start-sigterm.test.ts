import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/temporal.js';

/** Every process below `pid`, from /proc (Linux): the shell npm runs, node, the dev server, the service. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const visit = (id: number) => {
    for (const child of children.get(id) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('SIGTERM to the npm process of `npm start` (what systemd or a container runtime sends) stops every process it started within 10 s', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'revops-npm-sigterm-'));
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const npm = spawn('npm', ['start'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), TEMPORAL_PORT: String(temporalPort), TEMPORAL_UI_PORT: String(uiPort), DATABASE_URL: '', TEMPORAL_ADDRESS: '', API_KEYS: '', TEAM_FILE: 'none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const deadline = Date.now() + 180_000;
    while (!output.includes('RevOps Orchestrator is running')) {
      assert.ok(Date.now() < deadline && npm.exitCode === null, `npm start did not come up\n${output.slice(-3000)}`);
      await sleep(200);
    }
    const started = descendants(npm.pid!);
    assert.ok(started.length >= 3, `expected the shell, the supervisor, the dev server and the service below npm: ${started.join(', ')}`);

    const sigterm = Date.now();
    npm.kill('SIGTERM');
    while (started.some(alive) && Date.now() - sigterm < 10_000) await sleep(100);
    const left = started.filter(alive).map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 120)}`);
    assert.deepEqual(left, [], `still running 10 s after SIGTERM\n${output.slice(-3000)}`);
    process.stderr.write(`every process of npm start gone ${Date.now() - sigterm} ms after SIGTERM to npm\n`);
  } finally {
    for (const pid of descendants(npm.pid!)) process.kill(pid, 'SIGKILL');
    npm.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
