import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../observability/logger.js';

/**
 * What keeps `npm run worker` and `npm run api` up through a dependency's outage: start-up steps that wait
 * for the database or Temporal instead of exiting, a watch that says in the log when a dependency goes away
 * and when it is back, and a last line of defence against a stray rejection. Everything that fails while
 * running (a query, a poll, a webhook call) is already retried where it happens: by Temporal's activity
 * retries, by the SDK's poll loop, by the client's next request.
 */

export type Log = (line: string) => void;
const defaultLog: Log = (line) => logger.info({ component: 'dependencies' }, line);

/** Why a call failed, in one line: the first line of the message plus the code drivers attach. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // drizzle wraps a driver error in "Failed query: <sql>"; the driver's own error says what went wrong.
  if (error.message.startsWith('Failed query') && error.cause instanceof Error) return reasonOf(error.cause);
  const code = (error as { code?: unknown }).code;
  const message = error.message.split('\n')[0] ?? '';
  const cause = error.cause instanceof Error && !message.includes(error.cause.message) ? ` (${error.cause.message.split('\n')[0]})` : '';
  return `${message}${cause}${typeof code === 'string' && !message.includes(code) ? ` [${code}]` : ''}`.slice(0, 300);
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const startupBackoff: Backoff = { initialMs: 500, maxMs: 10_000 };

/** The wait before attempt `attempt` (1-based): doubling from `initialMs`, capped, with jitter so restarted fleets spread out. */
export function backoffDelay(attempt: number, { initialMs, maxMs }: Backoff): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + Math.random() / 4));
}

/**
 * Runs `attempt` until it succeeds: a dependency that is down at start-up is waited for, not a reason to
 * exit. Gives up only when `signal` aborts (shutdown), with the last attempt's error, or on an error
 * `permanent` names.
 */
export async function untilAvailable<T>(
  what: string,
  attempt: () => Promise<T>,
  options: { log?: Log; backoff?: Backoff; signal?: AbortSignal; permanent?: (error: unknown) => boolean } = {},
): Promise<T> {
  const log = options.log ?? defaultLog;
  for (let tries = 1; ; tries += 1) {
    try {
      const value = await attempt();
      if (tries > 1) log(`[dependencies] ${what}: reachable after ${tries} attempts`);
      return value;
    } catch (error) {
      // Shutdown ends the wait with the error it was waiting out; a mistake in the configuration (permanent)
      // does not go away by waiting: say it and exit.
      if (options.signal?.aborted || options.permanent?.(error)) throw error;
      const delay = backoffDelay(tries, options.backoff ?? startupBackoff);
      log(`[dependencies] ${what}: not reachable (${reasonOf(error)}); trying again in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {
        throw error;
      });
    }
  }
}

/**
 * Remembers whether each dependency answers and logs only the changes, with how long an outage lasted, so
 * an operator reading the log sees "database unavailable … available again after 20.4 s" instead of one
 * stack trace per failed query.
 */
export class DependencyStatus {
  private readonly down = new Map<string, { since: number; reason: string }>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly consequence: Record<string, string>,
    private readonly log: Log = defaultLog,
  ) {}

  up(name: string): void {
    this.seen.add(name);
    const outage = this.down.get(name);
    if (!outage) return;
    this.down.delete(name);
    this.log(`[dependencies] ${name} available again after ${((Date.now() - outage.since) / 1000).toFixed(1)} s`);
  }

  failed(name: string, error: unknown): void {
    this.seen.add(name);
    if (this.down.has(name)) return;
    const reason = reasonOf(error);
    this.down.set(name, { since: Date.now(), reason });
    const consequence = this.consequence[name];
    this.log(`[dependencies] ${name} unavailable (${reason})${consequence ? `: ${consequence}` : ''}`);
  }

  /** Names of the dependencies that are down now. */
  unavailable(): string[] {
    return [...this.down.keys()];
  }
}

export interface Probe {
  name: string;
  check(signal: AbortSignal): Promise<unknown>;
}

/**
 * Checks each probe every `intervalMs` (one check at a time per probe, each bounded by `timeoutMs`, so a
 * dependency that hangs counts as down) and reports to `status`. Returns a function that stops it.
 */
export function watchDependencies(status: DependencyStatus, probes: readonly Probe[], options: { intervalMs?: number; timeoutMs?: number } = {}): () => void {
  const intervalMs = options.intervalMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const stop = new AbortController();
  for (const probe of probes) {
    void (async () => {
      while (!stop.signal.aborted) {
        // The check's deadline is a timer of its own, not AbortSignal.timeout / AbortSignal.any: Node holds those
        // signals weakly, so when the check was a call parked where nothing else reached it (a request queued while
        // Temporal was down) the signal was collected with its listener, the timeout never fired, and this loop
        // stopped watching for good. The timer holds the controller until the check ends.
        const attempt = new AbortController();
        const timer = setTimeout(() => attempt.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        const onStop = () => attempt.abort(stop.signal.reason);
        stop.signal.addEventListener('abort', onStop, { once: true });
        try {
          await new Promise((resolve, reject) => {
            attempt.signal.addEventListener('abort', () => reject(attempt.signal.reason), { once: true });
            probe.check(attempt.signal).then(resolve, reject);
          });
          status.up(probe.name);
        } catch (error) {
          if (stop.signal.aborted) return;
          status.failed(probe.name, error);
        } finally {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', onStop);
        }
        await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => {});
      }
    })();
  }
  return () => stop.abort();
}

/**
 * A promise nobody awaited that rejects (a library's background reconnect, a fire-and-forget call) is
 * logged and the process keeps serving: on Node 15+ it would otherwise end the process, and with it every
 * step in flight. An uncaught exception still ends it, since the process state is then unknown; the
 * supervisor (npm start, systemd, Kubernetes) starts a fresh one.
 */
export function keepRunningOnStrayRejections(name: string, log: Log = (line) => logger.error({ component: name }, line)): void {
  process.on('unhandledRejection', (reason) => {
    log(`[${name}] unhandled rejection, kept running: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
}
