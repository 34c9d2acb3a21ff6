import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: every script path below is relative to it. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node --import tsx <script>`: what `tsx <script>` runs, minus the tsx launcher process in between, so the
 * pid a test signals is the service's own and a SIGKILL leaves no orphan behind.
 */
function nodeArgs(script: string, args: readonly string[]): string[] {
  return ['--import', 'tsx', script, ...args];
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** Everything it printed so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves with the first line matching `pattern` printed after `fromOffset` (default: from the start). */
  waitFor(pattern: RegExp, options?: { timeoutMs?: number; fromOffset?: number }): Promise<string>;
  /** Length of output() now, to wait for a line printed after this moment. */
  mark(): number;
  /** null while it runs. */
  exit(): Exit | null;
  readonly exited: Promise<Exit>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
}

export interface StartOptions {
  /** Added to this process's environment; a variable set to undefined is left out. */
  env?: Record<string, string | undefined>;
  args?: readonly string[];
  cwd?: string;
  /** Echo each line to the test's stderr with the process name in front (PROCESS_LOGS=1 turns it on for all). */
  echo?: boolean;
}

/** Starts a long-running TypeScript entry point (worker/main.ts, api/main.ts, ...) as a child process. */
export function startProcess(name: string, script: string, options: StartOptions = {}): ServiceProcess {
  // A variable given as undefined is removed, not passed on as the string "undefined".
  // Their output is kept for waitFor, not printed: info lines are what the tests look for.
  const env = Object.fromEntries(Object.entries({ ...process.env, LOG_LEVEL: 'info', ...options.env }).filter(([, value]) => value !== undefined));
  const child: ChildProcess = spawn(process.execPath, nodeArgs(script, options.args ?? []), {
    cwd: options.cwd ?? projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${script}`);
  let text = '';
  const waiters = new Set<() => void>();
  const echo = options.echo ?? process.env.PROCESS_LOGS === '1';
  const keep = (chunk: Buffer) => {
    const piece = chunk.toString();
    text += piece;
    if (echo) for (const line of piece.split('\n').filter(Boolean)) process.stderr.write(`[${name}] ${line}\n`);
    for (const wake of [...waiters]) wake();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitState: Exit | null = null;
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      exitState = { code, signal };
      for (const wake of [...waiters]) wake();
      resolve(exitState);
    }),
  );
  // A test that fails half-way must not leave services running that hold ports and databases.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const self: ServiceProcess = {
    name,
    pid: child.pid,
    output: () => text,
    mark: () => text.length,
    exit: () => exitState,
    exited,
    kill(signal) {
      if (exitState === null) child.kill(signal);
    },
    waitFor(pattern, { timeoutMs = 60_000, fromOffset = 0 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text
            .slice(fromOffset)
            .split('\n')
            .find((candidate) => pattern.test(candidate));
          if (line !== undefined) return finish(() => resolve(line));
          if (exitState) return finish(() => reject(new Error(`${name} exited (${describeExit(exitState!)}) before printing ${pattern}\n${tail(text)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms\n${tail(text)}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (exitState) return exitState;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  return self;
}

/** Runs a TypeScript script to its end and hands back what it printed and how it exited. */
export async function runScript(script: string, options: StartOptions & { timeoutMs?: number } = {}): Promise<Exit & { output: string }> {
  const child = startProcess(options.args?.[0] ?? script, script, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = await child.exited;
  clearTimeout(timer);
  return { ...result, output: child.output() };
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** The last lines of a process's output, for failure messages. */
export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
