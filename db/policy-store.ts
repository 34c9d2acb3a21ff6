import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { policies } from '../db/schema.js';
import { publicHolidayDates } from '../domain/holidays.js';
import { policySchema, PolicyValidationError, type Policy } from '../domain/policy.js';
import { resolvePolicy } from '../domain/policy-source.js';

/**
 * Every published policy version in Postgres: the framework's changelog (who changed the rules, when and
 * why). Versions are immutable; the most recently published one is what new leads start under.
 */

export interface PolicySummary {
  version: string;
  author: string;
  note: string;
  createdAt: Date;
}

export interface StoredPolicy extends PolicySummary {
  /** The document exactly as published (public holidays not yet resolved into dates). */
  document: unknown;
}

export interface PublishPolicyInput {
  document: unknown;
  author: string;
  note: string;
}

export interface PolicyIssue {
  path: string;
  message: string;
}

/** A policy document that does not validate; `details` names each problem's path for API answers. */
export class InvalidPolicyError extends PolicyValidationError {
  constructor(readonly details: PolicyIssue[]) {
    super(details.map((issue) => `${issue.path}: ${issue.message}`));
    this.name = 'InvalidPolicyError';
  }
}

/** A version that is already stored: versions are immutable, so publish a new one instead. */
export class PolicyVersionConflictError extends Error {
  constructor(readonly version: string) {
    super(`policy version ${version} already exists; versions are immutable, publish the change under a new version`);
    this.name = 'PolicyVersionConflictError';
  }
}

/** No version has been published yet (start-up seeds one from the policy file). */
export class NoPolicyPublishedError extends Error {
  constructor() {
    super('no policy has been published yet; publish one with POST /policies');
    this.name = 'NoPolicyPublishedError';
  }
}

export interface SeedResult {
  version: string;
  /** `published`: stored now; `unchanged`: already stored with this document; `kept-stored`: stored with another document, which stays. */
  outcome: 'published' | 'unchanged' | 'kept-stored';
}

export interface PolicyStore {
  /** Validates and stores a new version; it becomes current. */
  publish(input: PublishPolicyInput): Promise<StoredPolicy>;
  /** Newest first. */
  list(): Promise<PolicySummary[]>;
  get(version: string): Promise<StoredPolicy | undefined>;
  /** A stored version resolved for a workflow (public holidays as dates), or undefined when unknown. */
  resolve(version: string): Promise<Policy | undefined>;
  /** The most recently published version, resolved; the policy new leads start under. */
  current(): Promise<Policy>;
  /** Publishes the file's version unless it is stored already; a stored version is never overwritten. */
  seedFromFile(path: string): Promise<SeedResult>;
}

export interface PolicyStoreOptions {
  /** The clock that picks the years of public holidays to resolve. */
  now?: () => Date;
  logger?: Pick<Console, 'warn'>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Resolved policies kept per version and UTC year; versions are immutable, so an entry never goes stale. */
const CACHE_LIMIT = 32;

/**
 * Validates a document the way a workflow will need it: the schema (every issue with its path), then
 * each calendar's public holidays, which the holiday library must know.
 */
export function validatePolicyDocument(document: unknown, today: Date): Policy {
  const parsed = policySchema.safeParse(document);
  if (!parsed.success) {
    throw new InvalidPolicyError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message })));
  }
  const issues: PolicyIssue[] = [];
  const year = today.getUTCFullYear();
  for (const [key, calendar] of Object.entries(parsed.data.calendars)) {
    if (!calendar.publicHolidays) continue;
    try {
      publicHolidayDates(calendar.publicHolidays.country, calendar.publicHolidays.region, year, year);
    } catch (error) {
      issues.push({ path: `calendars.${key}.publicHolidays`, message: (error as Error).message });
    }
  }
  if (issues.length > 0) throw new InvalidPolicyError(issues);
  return resolvePolicy(document, today);
}

export function createPolicyStore(db: Database, options: PolicyStoreOptions = {}): PolicyStore {
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? console;
  const resolved = new Map<string, Promise<Policy>>();

  const toStored = (row: typeof policies.$inferSelect): StoredPolicy => ({
    version: row.version,
    document: row.document,
    author: row.author,
    note: row.note,
    createdAt: row.createdAt,
  });

  async function get(version: string): Promise<StoredPolicy | undefined> {
    const [row] = await db.select().from(policies).where(eq(policies.version, version));
    return row ? toStored(row) : undefined;
  }

  /** Resolves `version` once per UTC year; concurrent callers share one resolution. */
  function resolveCached(version: string, document: () => Promise<unknown>): Promise<Policy> {
    const today = now();
    const key = `${today.getUTCFullYear()}\u0000${version}`;
    let entry = resolved.get(key);
    if (!entry) {
      entry = document().then((doc) => deepFreeze(resolvePolicy(doc, today)));
      entry.catch(() => resolved.delete(key));
      if (resolved.size >= CACHE_LIMIT) resolved.delete(resolved.keys().next().value!);
      resolved.set(key, entry);
    }
    // Frozen, so every caller can share the cached snapshot and none can change it (no copy per intake).
    return entry;
  }

  async function loadDocument(version: string): Promise<unknown> {
    const stored = await get(version);
    if (!stored) throw new Error(`policy version ${version} vanished from the store`);
    return stored.document;
  }

  const store: PolicyStore = {
    async publish({ document, author, note }) {
      const policy = validatePolicyDocument(document, now());
      const [row] = await db
        .insert(policies)
        .values({ version: policy.version, document, author, note })
        .onConflictDoNothing({ target: policies.version })
        .returning();
      if (!row) throw new PolicyVersionConflictError(policy.version);
      return toStored(row);
    },

    async list() {
      return db
        .select({ version: policies.version, author: policies.author, note: policies.note, createdAt: policies.createdAt })
        .from(policies)
        .orderBy(desc(policies.createdAt), desc(policies.version));
    },

    get,

    async resolve(version) {
      const stored = await get(version);
      if (!stored) return undefined;
      return resolveCached(version, async () => stored.document);
    },

    async current() {
      // One small query per call: another API process may have published since.
      const [latest] = await db
        .select({ version: policies.version })
        .from(policies)
        .orderBy(desc(policies.createdAt), desc(policies.version))
        .limit(1);
      if (!latest) throw new NoPolicyPublishedError();
      return resolveCached(latest.version, () => loadDocument(latest.version));
    },

    async seedFromFile(path) {
      let document: unknown;
      try {
        document = JSON.parse(await readFile(path, 'utf8'));
      } catch (error) {
        throw new PolicyValidationError([`${path}: ${(error as Error).message}`]);
      }
      const version = validatePolicyDocument(document, now()).version;
      const note = `loaded from ${basename(path)}`;
      try {
        await store.publish({ document, author: 'system', note });
        return { version, outcome: 'published' };
      } catch (error) {
        if (!(error instanceof PolicyVersionConflictError)) throw error;
      }
      const stored = await get(version);
      if (stored && isDeepStrictEqual(stored.document, document)) return { version, outcome: 'unchanged' };
      logger.warn(
        `Policy version ${version} in ${path} differs from the stored version ${version}; keeping the stored one (a version is immutable). ` +
          'Give the changed file a new version to publish it.',
      );
      return { version, outcome: 'kept-stored' };
    },
  };
  return store;
}
