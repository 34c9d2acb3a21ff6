// Child process of postgres-driver-guard.test.ts: it cuts the connections of the `postgres` driver named by
// argv through a proxy while queries are in flight, then checks that every query settled and that the pool
// still answers once the proxy is back. Usage: postgres-cut.ts esm|cjs project|<package dir> close|reset|buffered <url>.
// A crash of the driver ends this process, which is the point: only a separate process can show an
// exception that no caller can catch.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { startTcpProxy, type CutMode } from '../../support/tcp-proxy.js';

type Sql = ((strings: TemplateStringsArray, ...values: unknown[]) => Promise<unknown>) & {
  begin<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  end(options?: { timeout?: number }): Promise<void>;
};
type Postgres = (url: string, options: Record<string, unknown>) => Sql;

/** close / reset: the proxy drops every connection mid-transaction; buffered: a reset lands while small writes wait to be flushed. */
type Mode = CutMode | 'buffered';
const [moduleFormat, packageDir, mode, databaseUrl] = process.argv.slice(2) as ['esm' | 'cjs', string, Mode, string];

async function loadDriver(): Promise<Postgres> {
  // 'project' loads the driver the way the service does (bare specifier); a path loads that copy instead.
  if (moduleFormat === 'cjs') {
    const require = createRequire(import.meta.url);
    return require(packageDir === 'project' ? 'postgres' : `${packageDir}/cjs/src/index.js`) as Postgres;
  }
  const specifier = packageDir === 'project' ? 'postgres' : pathToFileURL(`${packageDir}/src/index.js`).href;
  return ((await import(specifier)) as { default: Postgres }).default;
}

/** Settles with what happened, or 'hung' when the driver never answers: a hang is what the test looks for. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const report = (fields: Record<string, unknown>) => console.log(`RESULT ${JSON.stringify(fields)}`);

const postgres = await loadDriver();
const target = new URL(databaseUrl);
const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
let onFirstClose: (() => void) | undefined;
const sql = postgres(proxy.url(databaseUrl), {
  // close / reset: as many connections as transactions, so every connection the pool has is one that was cut.
  max: mode === 'buffered' ? 8 : 4,
  onnotice: () => {},
  connect_timeout: 3,
  // The driver waits up to 20 s between reconnects after repeated errors; a short wait keeps the check
  // about the connections' state, not their schedule.
  backoff: () => 0.05,
  onclose: () => {
    const run = onFirstClose;
    onFirstClose = undefined;
    run?.();
  },
});
await sql`select 1`;

let outcomes: unknown;
if (mode === 'buffered') {
  // Eight warm connections: four stay idle, four are busy when the cut comes.
  await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => sql`select ${i}::int, pg_sleep(0.2)`));
  const busy = [0, 1, 2, 3].map(() => sql`select pg_sleep(5)`.catch(() => 'cut'));
  let queries: Promise<unknown>[] = [];
  // The first connection the driver sees close sends new queries to the idle ones, whose own close events
  // are still to come in the same phase of the event loop: their small writes wait for a setImmediate
  // flush when the connection under them closes.
  onFirstClose = () => {
    queries = [0, 1, 2, 3].map((i) => sql`select ${i}::int as i`.then(() => 'answered', (error: { code?: string; message: string }) => error.code ?? error.message));
  };
  await new Promise((resolve) => setTimeout(resolve, 300));
  await proxy.cut('reset');
  await Promise.all(busy);
  await new Promise((resolve) => setTimeout(resolve, 100));
  outcomes = await within(Promise.all(queries), 6_000);
} else {
  // Each transaction's statement is in flight when its connection dies; its rejection makes the driver send
  // a small ROLLBACK (under the 1 KiB that is flushed at once) on the connection that just closed.
  const transactions = [0, 1, 2, 3].map(() =>
    sql.begin((tx) => tx`select pg_sleep(5)`).then(
      () => 'committed',
      (error: { code?: string; message: string }) => error.code ?? error.message,
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  await proxy.cut(mode);
  outcomes = await within(Promise.all(transactions), 6_000);
}
// Give any write the driver scheduled for the dead sockets the chance to run (and crash) before going on.
await new Promise((resolve) => setTimeout(resolve, 200));
await proxy.restore();

const afterRestore = await within(
  Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => sql`select ${i}::int as i`.then(() => 'ok', (error: Error) => error.message))),
  8_000,
);
// A query written to an idle connection in the moment its socket dies: the driver rejects it, and must not
// keep it as the connection's running query.
await proxy.cut(mode === 'close' ? 'close' : 'reset');
const duringCut = await within(sql`select 1`.then(() => 'answered', (error: { code?: string; message: string }) => error.code ?? error.message), 6_000);
await proxy.restore();
// No timeout: the pool must end by itself. The driver as shipped waits forever on a connection that a cut closed
// under a running query.
const ended = await within(sql.end().then(() => 'ended'), 3_000);
await proxy.close();
report({ outcomes, duringCut, afterRestore, ended });
process.exit(0);
