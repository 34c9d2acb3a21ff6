import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time spent by each part of the system under test, read from Linux's /proc: the Temporal dev server (a
 * child process), this process (the API, both workers and the benchmark's own polling) and Postgres (every
 * postgres process, plus what the postmaster has collected from backends that already exited). On two shared
 * cores a throughput ratio mixes two regimes, waiting and computing; CPU per lead is what each side costs.
 */

export interface CpuTimes {
  temporalMs: number;
  processMs: number;
  postgresMs: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux kernel in use

export interface ProcStat {
  comm: string;
  ppid: number;
  ownTicks: number;
  reapedChildrenTicks: number;
}

function readStat(pid: string | number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone between listing and reading, or no /proc here
  }
}

/** One line of /proc/<pid>/stat (proc(5)). */
export function parseProcStat(text: string): ProcStat {
  // The command name is in parentheses and may itself hold spaces or parentheses: fields follow the last ')'.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // Fields from 3 (state) on, so index = field number - 3: ppid 4, utime 14, stime 15, cutime 16, cstime 17.
  const field = (number: number) => Number(fields[number - 3]);
  return { comm, ppid: field(4), ownTicks: field(14) + field(15), reapedChildrenTicks: field(16) + field(17) };
}

function postgresTicks(): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return Number.NaN;
  }
  const stats = pids.map((pid) => ({ pid: Number(pid), stat: readStat(pid) })).filter((entry) => entry.stat?.comm === 'postgres');
  const postgresPids = new Set(stats.map((entry) => entry.pid));
  let ticks = 0;
  for (const { stat } of stats) {
    ticks += stat!.ownTicks;
    // The postmaster (the one whose parent is not postgres) has collected its exited backends' time.
    if (!postgresPids.has(stat!.ppid)) ticks += stat!.reapedChildrenTicks;
  }
  return ticks;
}

/** A reading of all three; NaN where /proc cannot tell (not Linux, or the dev server's PID unknown). */
export function readCpuTimes(temporalPid: number | undefined): CpuTimes {
  const own = process.cpuUsage();
  const temporal = temporalPid === undefined ? undefined : readStat(temporalPid);
  return {
    temporalMs: temporal ? (temporal.ownTicks * 1000) / TICKS_PER_SECOND : Number.NaN,
    processMs: (own.user + own.system) / 1000,
    postgresMs: (postgresTicks() * 1000) / TICKS_PER_SECOND,
  };
}

/** CPU milliseconds per item of work between two readings. */
export function cpuPerItem(before: CpuTimes, after: CpuTimes, items: number): CpuTimes & { totalMs: number } {
  const per = (key: keyof CpuTimes) => (after[key] - before[key]) / items;
  const result = { temporalMs: per('temporalMs'), processMs: per('processMs'), postgresMs: per('postgresMs') };
  return { ...result, totalMs: result.temporalMs + result.processMs + result.postgresMs };
}
