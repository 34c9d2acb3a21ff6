import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { traceSql } from '../observability/tracing.js';
import * as schema from './schema.js';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
/** What `db.transaction` hands its callback: writes through it commit or roll back together. */
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** The rows of a raw `db.execute`: postgres-js answers with the rows, PGlite with `{ rows }`. */
export function resultRows<Row>(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : ((result as { rows?: Row[] }).rows ?? []);
}

/** The first row of a raw `db.execute`. */
export function firstRow<Row>(result: unknown): Row | undefined {
  return resultRows<Row>(result)[0];
}

/** Connection-level failures of the postgres driver and the server's "cannot serve now" states (class 57, 53300). */
const DATABASE_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

/** The database is down, restarting or unreachable: a moment later the same request may succeed. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && DATABASE_UNAVAILABLE.has(code)) return true;
  }
  return false;
}

export interface DatabaseHandle {
  db: Database;
  /**
   * Calls `onChange` with the payload of every NOTIFY on `channel`, and with no payload each time the listening
   * connection is (re)established, when notifications may have been missed. Resolves once listening.
   */
  listen(channel: string, onChange: (payload?: string) => void): Promise<void>;
  /** Where the data lives, for the start-up banner; never includes a password. */
  description: string;
  close(): Promise<void>;
}

/**
 * Drizzle runs every statement as an unnamed one (it names one only for `.prepare(name)`). For an unnamed
 * statement with parameters postgres.js makes two round trips (the first learns the parameters' types), and
 * Postgres parses and plans it again every time. Named, a statement's text is parsed once per connection and
 * then bound and run in one round trip: a small statement took 0.26 ms here instead of 0.55, and a step, an
 * intake or a report is several statements. After five runs Postgres may keep one generic plan for a statement
 * when that plan is estimated to cost no more than planning each time (plan_cache_mode auto); the reports' range
 * statements measured the same either way, for windows of one day to three years. postgres.js keeps the names
 * per connection and prepares again what the server has dropped. A pool that cannot hold named statements (PgBouncer in transaction mode before 1.21,
 * or without max_prepared_statements) turns them off with `?prepare=false` in DATABASE_URL: postgres.js's own
 * option, which this does not override.
 */
function namedStatements<Client extends object>(client: Client): Client {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'unsafe') {
        return (text: string, parameters?: unknown[], options?: object) => value.call(target, text, parameters, { ...options, prepare: true });
      }
      // A transaction's (and a savepoint's) statements go through a client of its own.
      if (property === 'begin' || property === 'savepoint') {
        return (...args: unknown[]) => {
          const body = args.at(-1) as (client: object) => unknown;
          return value.apply(target, [...args.slice(0, -1), (client: object) => body(namedStatements(client))]);
        };
      }
      return value.bind(target);
    },
  });
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Opens the database and applies pending migrations: a real Postgres when `databaseUrl` is given,
 * otherwise an embedded PGlite under `dataDir`, so `npm start` needs no server of its own.
 */
export async function openDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    const sql = postgres(options.databaseUrl, {
      max: 10,
      onnotice: () => {},
      // A server that accepts the TCP connection but never answers counts as down after 10 s, not 30.
      connect_timeout: 10,
      // The driver's own back-off between reconnects grows to 20 s after a few failed connections (the
      // count is shared by the pool), so once the database is back queries would wait that long for a
      // connection; 2 s at most keeps recovery prompt and costs a handful of refused connects a second.
      backoff: (retries: number) => Math.min(2, 0.05 * 2 ** retries) * (0.5 + Math.random() / 2),
    });
    const db = drizzle(traceSql(namedStatements(sql)), { schema });
    try {
      await migrate(db, { migrationsFolder });
    } catch (error) {
      // Start-up retries call this again; each failed attempt must not leave a pool behind.
      await sql.end({ timeout: 0 }).catch(() => {});
      throw error;
    }
    return {
      db,
      description: redactPassword(options.databaseUrl),
      listen: async (channel, onChange) => {
        await sql.listen(channel, (payload) => onChange(payload), () => onChange());
      },
      close: () => sql.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const directory = join(options.dataDir, 'pglite');
  mkdirSync(directory, { recursive: true });
  const client = new PGlite(directory);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder });
  return {
    db,
    description: `embedded PGlite at ${directory}`,
    listen: async (channel, onChange) => {
      await client.listen(channel, (payload) => onChange(payload));
      onChange();
    },
    close: () => client.close(),
  };
}

function redactPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}
