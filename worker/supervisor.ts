import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../observability/logger.js';
import { backoffDelay, type Backoff, type Log } from './resilience.js';

/**
 * Keeps the parts `npm start` runs (the Temporal dev server, the service process) running: a part that exits
 * without being asked is started again after a back-off, and each restart is logged. `stop` ends the parts in
 * the reverse order of their start, each with SIGTERM and, past its grace time, SIGKILL, so the whole set is
 * down within the sum of the grace times.
 */

export interface PartSpec {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves once the part is up; it is handed the child and a promise that settles if it exits. */
  ready?: (child: ChildProcess, exited: Promise<unknown>) => Promise<void>;
  /** How long SIGTERM may take before SIGKILL. */
  stopGraceMs: number;
  /** Node parts get an IPC channel: they can say they are ready, and they notice when the supervisor is gone. */
  ipc?: boolean;
  /** 'inherit' (default) prints the part's output as it comes; 'on-failure' keeps it and prints the end of it when the part fails. */
  output?: 'inherit' | 'on-failure';
}

/** Back-off between restarts of one part: 1 s, doubling to 30 s; a part that stayed up a minute starts again at 1 s. */
export const restartBackoff: Backoff = { initialMs: 1_000, maxMs: 30_000 };
const STABLE_AFTER_MS = 60_000;

interface Running {
  spec: PartSpec;
  child: ChildProcess | null;
  exited: Promise<void>;
  restarts: number;
  failuresInARow: number;
  startedAt: number;
  /** Restarts begin once a part has come up once: failing its very first start is a configuration error. */
  everReady: boolean;
  restartTimer: AbortController | null;
}

export class Supervisor {
  private readonly parts: Running[] = [];
  private stopping = false;

  constructor(private readonly log: Log = (line) => logger.info({ component: 'supervisor' }, line)) {}

  /** Starts a part and waits until it is ready; a part that cannot start the first time is an error, not a restart. */
  async start(spec: PartSpec): Promise<void> {
    const part: Running = { spec, child: null, exited: Promise.resolve(), restarts: 0, failuresInARow: 0, startedAt: 0, everReady: false, restartTimer: null };
    this.parts.push(part);
    await this.launch(part);
  }

  /** Pids of the parts running now, by name (tests kill one to see it come back). */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.parts.map((part) => [part.spec.name, part.child?.pid]));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const part of [...this.parts].reverse()) {
      part.restartTimer?.abort();
      await this.terminate(part);
    }
  }

  private async launch(part: Running): Promise<void> {
    const { spec } = part;
    const quiet = spec.output === 'on-failure';
    const output = quiet ? 'pipe' : 'inherit';
    const child = spawn(spec.command, spec.args, {
      env: { ...process.env, ...spec.env },
      stdio: spec.ipc ? ['ignore', output, output, 'ipc'] : ['ignore', output, output],
    });
    part.child = child;
    const kept: string[] = [];
    if (quiet) {
      const keep = (chunk: Buffer) => {
        kept.push(chunk.toString());
        if (kept.length > 100) kept.shift();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    }
    const printKept = () => {
      const text = kept.join('').trim();
      if (text) this.log(`[supervisor] last output of ${spec.name}:\n${text.split('\n').slice(-30).join('\n')}`);
    };
    part.startedAt = Date.now();
    let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
    part.exited = new Promise<void>((resolve) => {
      onExit = (code, signal) => {
        resolve();
        if (part.child === child) part.child = null;
        if (this.stopping) return;
        printKept();
        if (part.everReady) this.scheduleRestart(part, signal ? `signal ${signal}` : `code ${code}`);
      };
    });
    child.once('exit', (code, signal) => onExit(code, signal));
    // A part that cannot even be spawned (missing binary) reports it as an error event, not an exit.
    child.once('error', (error) => {
      this.log(`[supervisor] ${spec.name} could not start: ${error.message}`);
      if (child.exitCode === null && child.signalCode === null) onExit(null, null);
    });
    // However this process ends, no part may outlive it and keep its port.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    void part.exited.then(() => process.removeListener('exit', killOnExit));
    if (spec.ready) {
      const exitedEarly = part.exited.then(() => {
        throw new Error(`${spec.name} exited before it was ready`);
      });
      await Promise.race([spec.ready(child, part.exited), exitedEarly]);
    }
    part.everReady = true;
    this.log(`[supervisor] ${spec.name} running (pid ${child.pid})`);
  }

  private scheduleRestart(part: Running, how: string): void {
    const ranMs = Date.now() - part.startedAt;
    part.failuresInARow = ranMs >= STABLE_AFTER_MS ? 1 : part.failuresInARow + 1;
    part.restarts += 1;
    const delay = backoffDelay(part.failuresInARow, restartBackoff);
    this.log(`[supervisor] ${part.spec.name} exited unexpectedly (${how}) after ${(ranMs / 1000).toFixed(1)} s; restart ${part.restarts} in ${(delay / 1000).toFixed(1)} s`);
    const timer = new AbortController();
    part.restartTimer = timer;
    void sleep(delay, undefined, { signal: timer.signal })
      .then(async () => {
        part.restartTimer = null;
        if (this.stopping) return;
        try {
          await this.launch(part);
          this.log(`[supervisor] ${part.spec.name} restarted`);
        } catch (error) {
          // Its exit has already scheduled the next attempt.
          this.log(`[supervisor] ${part.spec.name} did not come up: ${(error as Error).message}`);
        }
      })
      .catch(() => {});
  }

  private async terminate(part: Running): Promise<void> {
    const child = part.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const killTimer = setTimeout(() => child.kill('SIGKILL'), part.spec.stopGraceMs);
    child.kill('SIGTERM');
    await part.exited;
    clearTimeout(killTimer);
  }
}
